package dev.bucketdrive.mount;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.reflect.Constructor;
import java.lang.reflect.Proxy;
import org.cryptomator.jfuse.api.Stat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PreferredIoSizeTest {

    private static final String LINUX_AMD64 = "org.cryptomator.jfuse.linux.amd64";

    @Test
    void writesStBlksizeIntoJfusesLinuxStat() throws Exception {
        assumeTrue(System.getProperty("os.name").startsWith("Linux") && System.getProperty("os.arch").equals("amd64"),
                "jfuse's Linux amd64 binding");
        Class<?> fields = Class.forName(LINUX_AMD64 + ".extr.fuse3.stat");
        Constructor<?> statOf = Class.forName(LINUX_AMD64 + ".StatImpl").getDeclaredConstructor(MemorySegment.class);
        statOf.setAccessible(true);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment segment = (MemorySegment) fields.getMethod("allocate", SegmentAllocator.class)
                    .invoke(null, arena);
            Stat stat = (Stat) statOf.newInstance(segment);
            stat.setSize(12345);

            PreferredIoSize.set(stat, 1 << 20);

            assertThat(PreferredIoSize.supported(stat.getClass())).isTrue();
            assertThat(fields.getMethod("st_blksize", MemorySegment.class).invoke(null, segment)).isEqualTo(1L << 20);
            assertThat(stat.getSize()).isEqualTo(12345);
        }
    }

    @Test
    void aStatItCannotWriteIsLeftAsItIs() {
        Stat other = (Stat) Proxy.newProxyInstance(Stat.class.getClassLoader(), new Class<?>[] {Stat.class},
                (proxy, method, args) -> {
                    throw new AssertionError("touched: " + method.getName());
                });

        PreferredIoSize.set(other, 1 << 20);

        assertThat(PreferredIoSize.supported(other.getClass())).isFalse();
    }

    @ParameterizedTest(name = "max_write {0} -> st_blksize {1}")
    @CsvSource({
        "1048576, 1048576",
        "4294967295, 1048576", // libfuse's "no limit" (UINT_MAX)
        "131072, 131072",
        "200000, 131072",
        "4096, 4096",
        "4095, 0", // below a page: the kernel's default
        "0, 0",
    })
    void theSizeIsTheLargestPowerOfTwoFuseCanMoveInOneRequest(long maxWrite, long expected) {
        assertThat(BucketFileSystem.preferredIoSize(maxWrite)).isEqualTo(expected);
    }
}
