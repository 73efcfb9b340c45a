package dev.bucketdrive.core.attrs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bucketdrive.core.attrs.PosixMetadata.Defaults;
import dev.bucketdrive.core.attrs.PosixMetadata.Kind;
import java.time.Instant;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class PosixMetadataTest {

    private static final Defaults DEFAULTS = Defaults.forUser(1000, 1000);
    private static final Instant LAST_MODIFIED = Instant.parse("2026-03-04T05:06:07.890Z");

    @Test
    void objectsWithoutMetadataGetTheMountDefaults() {
        PosixAttributes file = PosixMetadata.read(Map.of(), Kind.FILE, LAST_MODIFIED, DEFAULTS);
        assertThat(file).isEqualTo(new PosixAttributes(0100644, 1000, 1000, LAST_MODIFIED.toEpochMilli()));
        PosixAttributes dir = PosixMetadata.read(Map.of(), Kind.DIRECTORY, LAST_MODIFIED, DEFAULTS);
        assertThat(dir.mode()).isEqualTo(040755);
        assertThat(dir.isDirectory()).isTrue();
        assertThat(Defaults.withUmask(027, 5, 6)).isEqualTo(new Defaults(0640, 0750, 5, 6));
    }

    @Test
    void readsWhatS3fsWrites() {
        // s3fs: decimal mode with type bits, decimal ids, whole-second mtime.
        var meta = Map.of("mode", "33261", "uid", "501", "gid", "20", "mtime", "1700000000");
        PosixAttributes a = PosixMetadata.read(meta, Kind.FILE, LAST_MODIFIED, DEFAULTS);
        assertThat(a).isEqualTo(new PosixAttributes(0100755, 501, 20, 1_700_000_000_000L));
    }

    @Test
    void readsS3fsSymlinksAndOldStyleDirectoryObjects() {
        PosixAttributes link = PosixMetadata.read(Map.of("mode", Integer.toString(0120777)), Kind.FILE,
                LAST_MODIFIED, DEFAULTS);
        assertThat(link.isSymlink()).isTrue();
        PosixAttributes dir = PosixMetadata.read(Map.of("mode", Integer.toString(040700)), Kind.FILE,
                LAST_MODIFIED, DEFAULTS);
        assertThat(dir.isDirectory()).isTrue();
        assertThat(dir.permissions()).isEqualTo(0700);
    }

    @Test
    void readsRclonesFractionalMtime() {
        PosixAttributes a = PosixMetadata.read(Map.of("mtime", "1700000000.123456789"), Kind.FILE, LAST_MODIFIED,
                DEFAULTS);
        assertThat(a.mtimeMillis()).isEqualTo(1_700_000_000_123L);
    }

    @Test
    void aModeWithoutTypeBitsTakesTheTypeFromTheKey() {
        assertThat(PosixMetadata.read(Map.of("mode", "420"), Kind.FILE, LAST_MODIFIED, DEFAULTS).mode())
                .isEqualTo(0100644);
        assertThat(PosixMetadata.read(Map.of("mode", "448"), Kind.DIRECTORY, LAST_MODIFIED, DEFAULTS).mode())
                .isEqualTo(040700);
    }

    @Test
    void unreadableValuesFallBackToDefaults() {
        var meta = Map.of("mode", "rwxr-xr-x", "uid", "-5", "gid", "root", "mtime", "yesterday");
        assertThat(PosixMetadata.read(meta, Kind.FILE, LAST_MODIFIED, DEFAULTS))
                .isEqualTo(new PosixAttributes(0100644, 1000, 1000, LAST_MODIFIED.toEpochMilli()));
        assertThat(PosixMetadata.read(Map.of("mode", "9999999"), Kind.FILE, LAST_MODIFIED, DEFAULTS).mode())
                .isEqualTo(0100644);
    }

    @Test
    void writesWhatS3fsReads() {
        assertThat(PosixMetadata.write(new PosixAttributes(0100640, 501, 20, 1_700_000_000_999L)))
                .containsExactlyInAnyOrderEntriesOf(Map.of("mode", "33184", "uid", "501", "gid", "20",
                        "mtime", "1700000000"));
    }

    @Property
    void whatIsWrittenReadsBackToTheSecond(@ForAll @IntRange(max = 07777) int permissions,
                                           @ForAll @IntRange(min = 0, max = 1 << 30) int uid,
                                           @ForAll @LongRange(min = 0, max = 4_102_444_800_000L) long mtime) {
        PosixAttributes original = new PosixAttributes(0100000 | permissions, uid, uid / 2, mtime);
        PosixAttributes back = PosixMetadata.read(PosixMetadata.write(original), Kind.FILE, LAST_MODIFIED, DEFAULTS);
        assertThat(back.mode()).isEqualTo(original.mode());
        assertThat(back.uid()).isEqualTo(uid);
        assertThat(back.gid()).isEqualTo(uid / 2);
        assertThat(back.mtimeMillis()).isEqualTo(mtime / 1000 * 1000);
    }
}
