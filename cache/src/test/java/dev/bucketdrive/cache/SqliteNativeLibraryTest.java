package dev.bucketdrive.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The directory sqlite-jdbc copies its native library to, and the copies killed processes left there. */
class SqliteNativeLibraryTest {

    @TempDir
    Path tmp;

    @Test
    void copiesOlderThanTheLimitGoAndNewerOnesStay() throws Exception {
        Path dir = tmp.resolve("native");
        assertThat(SqliteNativeLibrary.privateDirectory(dir)).isTrue();
        Instant now = Instant.now();
        Path stale = Files.writeString(dir.resolve("sqlite-3-a-libsqlitejdbc.so"), "x");
        Path staleLock = Files.writeString(dir.resolve("sqlite-3-a-libsqlitejdbc.so.lck"), "");
        Path fresh = Files.writeString(dir.resolve("sqlite-3-b-libsqlitejdbc.so"), "x");
        for (Path p : new Path[] {stale, staleLock}) {
            Files.setLastModifiedTime(p, FileTime.from(now.minus(SqliteNativeLibrary.STALE_AFTER).minusSeconds(1)));
        }
        assertThat(SqliteNativeLibrary.removeOlderThan(dir, now.minus(SqliteNativeLibrary.STALE_AFTER))).isEqualTo(2);
        try (Stream<Path> left = Files.list(dir)) {
            assertThat(left).containsExactly(fresh);
        }
    }

    @Test
    void aDirectoryOthersMayUseOrALinkIsNotTaken() throws Exception {
        assumeTrue(LocalFiles.POSIX);
        Path open = Files.createDirectory(tmp.resolve("open"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwxrwxrwx")));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertThat(SqliteNativeLibrary.privateDirectory(open)).isFalse();
        Path target = tmp.resolve("target");
        assertThat(SqliteNativeLibrary.privateDirectory(target)).isTrue();
        Path link = Files.createSymbolicLink(tmp.resolve("link"), target);
        assertThat(SqliteNativeLibrary.privateDirectory(link)).isFalse();
    }

    @Test
    void theLibraryOfThisProcessWasCopiedToThePrivateDirectory() throws Exception {
        try (Database db = new Database(tmp.resolve("index.db"))) {
            db.update("CREATE TABLE t (k INTEGER PRIMARY KEY)");
        }
        String chosen = System.getProperty("org.sqlite.tmpdir");
        assertThat(chosen).endsWith("bucketdrive-sqlite-" + System.getProperty("user.name"));
        try (Stream<Path> copies = Files.list(Path.of(chosen))) {
            assertThat(copies.map(p -> p.getFileName().toString())).anyMatch(n -> n.contains("sqlitejdbc"));
        }
    }
}
