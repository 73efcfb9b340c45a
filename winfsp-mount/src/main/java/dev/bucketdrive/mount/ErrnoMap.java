package dev.bucketdrive.mount;

import dev.bucketdrive.core.vfs.FsError;
import org.cryptomator.jfuse.api.Errno;

/**
 * The one table from the core's errors to the platform's errno (numbers differ per OS, so they come
 * from jfuse's {@link Errno}). Callbacks return the negated value.
 */
final class ErrnoMap {

    private ErrnoMap() {
    }

    static int of(FsError error, Errno errno) {
        return switch (error) {
            case NOT_FOUND -> errno.enoent();
            case EXISTS -> errno.eexist();
            case NOT_A_DIRECTORY -> errno.enotdir();
            case IS_A_DIRECTORY -> errno.eisdir();
            case NOT_EMPTY -> errno.enotempty();
            case NAME_TOO_LONG -> errno.enametoolong();
            case INVALID_ARGUMENT -> errno.einval();
            case NO_SPACE -> noSpace(errno);
            case IO, STALE -> errno.eio();
            case READ_ONLY -> errno.erofs();
            case ACCESS_DENIED -> errno.eacces();
            case BAD_HANDLE -> errno.ebadf();
            case NOT_SUPPORTED -> errno.enotsup();
        };
    }

    /**
     * jfuse's {@link Errno} has no ENOSPC. It is 28 on Linux, macOS and in WinFsp's FUSE layer (which
     * takes Linux numbers), so that one number is named here.
     */
    private static int noSpace(Errno errno) {
        return 28;
    }
}
