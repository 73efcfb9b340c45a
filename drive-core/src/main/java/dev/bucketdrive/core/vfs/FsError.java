package dev.bucketdrive.core.vfs;

/**
 * What went wrong with a file-system operation, in file-system terms. The mount adapter turns each
 * into the platform's errno through one table; nothing below the adapter knows errno numbers.
 */
public enum FsError {
    /** No such file or directory (ENOENT). */
    NOT_FOUND,
    /** The name exists already (EEXIST). */
    EXISTS,
    /** A path component, or the target of a directory operation, is not a directory (ENOTDIR). */
    NOT_A_DIRECTORY,
    /** A file operation was asked of a directory (EISDIR). */
    IS_A_DIRECTORY,
    /** rmdir, or rename over, a directory that has entries (ENOTEMPTY). */
    NOT_EMPTY,
    /** The key would pass S3's 1024 bytes, or a name its 255 (ENAMETOOLONG). */
    NAME_TOO_LONG,
    /** An argument the operation cannot take: renaming a directory into itself, a bad flag (EINVAL). */
    INVALID_ARGUMENT,
    /** The cache cannot take more dirty data (ENOSPC). */
    NO_SPACE,
    /** The bucket failed or could not be reached in time (EIO). */
    IO,
    /** The remote object changed under an open file (EIO: jfuse offers no ESTALE). */
    STALE,
    /** The drive is mounted read-only (EROFS). */
    READ_ONLY,
    /** The bucket refused the request: credentials or policy (EACCES). */
    ACCESS_DENIED,
    /** The handle is not open, or not open for this (EBADF). */
    BAD_HANDLE,
    /** An operation or flag the drive does not offer, such as RENAME_EXCHANGE (ENOTSUP). */
    NOT_SUPPORTED;

    /**
     * Whether this is the drive failing (the bucket, the cache, a refusal), worth a warning and a
     * stack trace, rather than the answer to a question about names and handles such as "no such file".
     */
    public boolean isFailure() {
        return switch (this) {
            case IO, STALE, NO_SPACE, ACCESS_DENIED -> true;
            case NOT_FOUND, EXISTS, NOT_A_DIRECTORY, IS_A_DIRECTORY, NOT_EMPTY, NAME_TOO_LONG, INVALID_ARGUMENT,
                 READ_ONLY, BAD_HANDLE, NOT_SUPPORTED -> false;
        };
    }
}
