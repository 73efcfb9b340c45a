package dev.bucketdrive.core.local;

import java.util.Objects;

/**
 * What the drive knows of one name: a file, directory or symlink, with POSIX attributes.
 *
 * @param id       the file id ({@link ChunkKey#fileId()}); assigned by the index, stable across renames
 * @param path     the path relative to the mount root, {@code /}-separated, no leading or trailing
 *                 {@code /}; the root is {@code ""}
 * @param etag       the remote version this entry reflects; {@code null} when it exists only locally
 * @param listedAt   for a directory: when its listing was last merged from the bucket (epoch ms); 0 never
 * @param remoteSize how many bytes at the start of version {@code etag} still belong to the file: the
 *                   object's size, unless the file was changed here since (it may have grown past it,
 *                   with a hole in between that reads as zeros, not as bytes of the object)
 */
public record Entry(long id, String path, Type type, long size, long mtimeMillis, int mode, int uid, int gid,
                    String etag, long listedAt, long remoteSize) {

    public enum Type { FILE, DIRECTORY, SYMLINK }

    public Entry {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(type, "type");
        if (path.startsWith("/") || path.endsWith("/")) {
            throw new IllegalArgumentException("path must not start or end with /: " + path);
        }
    }

    /** An entry that is exactly its remote version ({@code remoteSize == size}), as a listing or HEAD shows it. */
    public Entry(long id, String path, Type type, long size, long mtimeMillis, int mode, int uid, int gid,
                 String etag, long listedAt) {
        this(id, path, type, size, mtimeMillis, mode, uid, gid, etag, listedAt, size);
    }

    /** The parent directory's path ({@code ""} for children of the root). */
    public String parent() {
        return parentOf(path);
    }

    /** The path of the directory that holds {@code path} ({@code ""} for children of the root). */
    public static String parentOf(String path) {
        int slash = path.lastIndexOf('/');
        return slash < 0 ? "" : path.substring(0, slash);
    }

    public String name() {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    /** The version in the bucket the file's missing bytes come from; null when there is none (etag null or empty). */
    public String remoteVersion() {
        return etag == null || etag.isEmpty() ? null : etag;
    }

    public Entry withSize(long newSize) {
        return new Entry(id, path, type, newSize, mtimeMillis, mode, uid, gid, etag, listedAt, remoteSize);
    }

    /** The same entry now backed by version {@code newEtag}, of which the first {@code newRemoteSize} bytes count. */
    public Entry withRemote(String newEtag, long newRemoteSize) {
        return new Entry(id, path, type, size, mtimeMillis, mode, uid, gid, newEtag, listedAt, newRemoteSize);
    }
}
