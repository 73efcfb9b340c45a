package dev.bucketdrive.mount;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DriveMountTest {

    @TempDir
    Path tmp;

    @Test
    void withoutLibfuse3TheUserIsToldToInstallFuse3() {
        assertThatThrownBy(() -> DriveMount.libfuse3(List.of(tmp.resolve("libfuse3.so.3").toString())))
                .isInstanceOf(DriveMount.MountException.class)
                .hasMessage("fuse3 is not installed (no libfuse3.so.3 found); install it, e.g. apt-get install fuse3");
    }

    @Test
    void theFirstLibfuse3ThatExistsIsTaken() throws Exception {
        Path there = Files.createFile(tmp.resolve("libfuse3.so.3"));
        assertThat(DriveMount.libfuse3(List.of(tmp.resolve("missing").toString(), there.toString())))
                .isEqualTo(there.toString());
    }

    @Test
    void aMountPointIsRecognisedFromMountinfo() {
        assertThat(DriveMount.isMountPoint(Path.of("/"))).isTrue();
        assertThat(DriveMount.isMountPoint(tmp)).isFalse();
    }
}
