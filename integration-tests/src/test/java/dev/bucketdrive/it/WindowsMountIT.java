package dev.bucketdrive.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bucketdrive.cache.CacheOptions;
import dev.bucketdrive.cache.LocalCache;
import dev.bucketdrive.core.store.Body;
import dev.bucketdrive.core.store.PutOptions;
import dev.bucketdrive.core.vfs.Drive;
import dev.bucketdrive.core.vfs.DriveOptions;
import dev.bucketdrive.mount.DriveMount;
import dev.bucketdrive.s3.S3ObjectStore;
import dev.bucketdrive.s3.S3ProxyServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/** A drive letter through WinFsp: files, names Windows forbids, and keys that differ only by case. */
@EnabledOnOs(OS.WINDOWS)
class WindowsMountIT {

    @TempDir
    Path tmp;

    @Test
    void aDriveLetterServesTheBucket() throws Exception {
        try (S3ProxyServer server = new S3ProxyServer()) {
            server.createBucket("win");
            S3ObjectStore store = S3ObjectStore.create(server.options("win").build());
            store.put("Readme.txt", Body.of("first".getBytes(StandardCharsets.UTF_8)), PutOptions.DEFAULT);
            store.put("README.txt", Body.of("second".getBytes(StandardCharsets.UTF_8)), PutOptions.DEFAULT);
            store.put("what?.txt", Body.of("q".getBytes(StandardCharsets.UTF_8)), PutOptions.DEFAULT);
            LocalCache cache = LocalCache.open(CacheOptions.defaults(tmp.resolve("cache")), Runnable::run);
            Drive drive = Drive.open(store, cache.chunks(), cache.journal(), cache.index(), cache.transactions(),
                    DriveOptions.standard().forWindows().withWriteBackDelay(Duration.ofMillis(100)));
            Path letter = Path.of("M:\\");
            try (DriveMount mount = DriveMount.mount(drive, Path.of("M:"), DriveMount.Options.of("win"))) {
                List<String> names;
                try (Stream<Path> files = Files.list(letter)) {
                    names = files.map(p -> p.getFileName().toString()).sorted().toList();
                }
                assertThat(names).containsExactly("README.txt", "Readme (case 2).txt", "what\uFF1F.txt");
                assertThat(Files.readString(letter.resolve("readme.txt"))).isEqualTo("second");
                assertThat(Files.readString(letter.resolve("Readme (case 2).txt"))).isEqualTo("first");
                Files.writeString(letter.resolve("new.txt"), "made on Windows");
                Files.move(letter.resolve("new.txt"), letter.resolve("moved.txt"));
                assertThat(Files.readString(letter.resolve("moved.txt"))).isEqualTo("made on Windows");
            } finally {
                drive.drain(Duration.ofMinutes(1), n -> { });
                drive.close();
                cache.close();
            }
            assertThat(new String(store.get("moved.txt", 0, 100, null).data(), StandardCharsets.UTF_8))
                    .isEqualTo("made on Windows");
        }
    }
}
