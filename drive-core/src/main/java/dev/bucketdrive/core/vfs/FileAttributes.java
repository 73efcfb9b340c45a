package dev.bucketdrive.core.vfs;

import dev.bucketdrive.core.attrs.PosixAttributes;

/**
 * What {@code stat} shows for a name.
 *
 * @param inode a number stable for the life of the entry (its file id; the root is 1)
 * @param mode  type and permission bits, as in {@link PosixAttributes}
 */
public record FileAttributes(long inode, int mode, int uid, int gid, long size, long mtimeMillis, int links) {

    public boolean isDirectory() {
        return (mode & PosixAttributes.S_IFMT) == PosixAttributes.S_IFDIR;
    }

    public boolean isSymlink() {
        return (mode & PosixAttributes.S_IFMT) == PosixAttributes.S_IFLNK;
    }
}
