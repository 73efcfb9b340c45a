package dev.bucketdrive.core.local;

import java.util.Objects;

/**
 * What the drive knows of one name: a file, directory or symlink, with POSIX attributes.
 *
 * @param id       the file id ({@link ChunkKey#fileId()}); assigned by the index, stable across renames
 * @param path     the path relative to the mount root, {@code /}-separated, no leading or trailing
 *                 {@code /}; the root is {@code ""}
 * @param etag     the remote version this entry reflects; {@code null} when it exists only locally
 * @param listedAt for a directory: when its listing was last merged from the bucket (epoch ms); 0 never
 */
public record Entry(long id, String path, Type type, long size, long mtimeMillis, int mode, int uid, int gid,
                    String etag, long listedAt) {

    public enum Type { FILE, DIRECTORY, SYMLINK }

    public Entry {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(type, "type");
        if (path.startsWith("/") || path.endsWith("/")) {
            throw new IllegalArgumentException("path must not start or end with /: " + path);
        }
    }

    /** The parent directory's path ({@code ""} for children of the root). */
    public String parent() {
        int slash = path.lastIndexOf('/');
        return slash < 0 ? "" : path.substring(0, slash);
    }

    public String name() {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    public Entry withSize(long newSize) {
        return new Entry(id, path, type, newSize, mtimeMillis, mode, uid, gid, etag, listedAt);
    }

    public Entry withEtag(String newEtag) {
        return new Entry(id, path, type, size, mtimeMillis, mode, uid, gid, newEtag, listedAt);
    }
}
