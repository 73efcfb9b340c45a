package dev.bucketdrive.mount;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bucketdrive.core.vfs.FsError;
import java.lang.reflect.Proxy;
import java.util.EnumSet;
import java.util.Set;
import org.cryptomator.jfuse.api.Errno;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ErrnoMapTest {

    /** An Errno whose every method answers a number derived from its name, so a row names its errno. */
    static final Errno NAMED = (Errno) Proxy.newProxyInstance(Errno.class.getClassLoader(),
            new Class<?>[] {Errno.class}, (proxy, method, args) -> switch (method.getName()) {
                case "hashCode" -> 0;
                case "equals" -> false;
                case "toString" -> "named errno";
                default -> 1000 + method.getName().hashCode() % 1000 + 1000;
            });

    static int named(String method) {
        return 1000 + method.hashCode() % 1000 + 1000;
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "NOT_FOUND, enoent",
        "EXISTS, eexist",
        "NOT_A_DIRECTORY, enotdir",
        "IS_A_DIRECTORY, eisdir",
        "NOT_EMPTY, enotempty",
        "NAME_TOO_LONG, enametoolong",
        "INVALID_ARGUMENT, einval",
        "IO, eio",
        "STALE, eio",
        "READ_ONLY, erofs",
        "ACCESS_DENIED, eacces",
        "BAD_HANDLE, ebadf",
        "NOT_SUPPORTED, enotsup",
    })
    void mapsToTheNamedErrno(FsError error, String errnoMethod) {
        assertThat(ErrnoMap.of(error, NAMED)).isEqualTo(named(errnoMethod));
    }

    @Test
    void noSpaceIs28OnEveryPlatformJfuseServes() {
        assertThat(ErrnoMap.of(FsError.NO_SPACE, NAMED)).isEqualTo(28);
    }

    @Test
    void everyErrorHasARowAbove() {
        Set<FsError> rows = EnumSet.of(FsError.NOT_FOUND, FsError.EXISTS, FsError.NOT_A_DIRECTORY,
                FsError.IS_A_DIRECTORY, FsError.NOT_EMPTY, FsError.NAME_TOO_LONG, FsError.INVALID_ARGUMENT,
                FsError.IO, FsError.STALE, FsError.READ_ONLY, FsError.ACCESS_DENIED, FsError.BAD_HANDLE,
                FsError.NOT_SUPPORTED, FsError.NO_SPACE);
        assertThat(rows).containsExactlyInAnyOrder(FsError.values());
    }
}
