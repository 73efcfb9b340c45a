package dev.bucketdrive.core.attrs;

/**
 * POSIX attributes of a file, directory or symlink.
 *
 * @param mode the full mode: type bits ({@link #S_IFREG}, {@link #S_IFDIR}, {@link #S_IFLNK}) and
 *             permission bits
 */
public record PosixAttributes(int mode, int uid, int gid, long mtimeMillis) {

    public static final int S_IFMT = 0170000;
    public static final int S_IFREG = 0100000;
    public static final int S_IFDIR = 0040000;
    public static final int S_IFLNK = 0120000;

    public boolean isDirectory() {
        return (mode & S_IFMT) == S_IFDIR;
    }

    public boolean isSymlink() {
        return (mode & S_IFMT) == S_IFLNK;
    }

    public int permissions() {
        return mode & 07777;
    }
}
