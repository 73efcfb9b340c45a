package dev.bucketdrive.it;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bucketdrive.cache.CacheOptions;
import dev.bucketdrive.cache.LocalCache;
import dev.bucketdrive.core.store.ObjectStore;
import dev.bucketdrive.core.vfs.Drive;
import dev.bucketdrive.core.vfs.DriveOptions;
import dev.bucketdrive.mount.DriveMount;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/** One real FUSE mount of a drive in this JVM: cache directory, drive, mount, and a clean stop. */
final class MountFixture implements AutoCloseable {

    final Path mountPoint;
    final Path cacheDir;
    final LocalCache cache;
    final Drive drive;
    final DriveMount mount;

    MountFixture(ObjectStore store, Path mountPoint, Path cacheDir, UnaryOperator<DriveOptions> tune) throws Exception {
        this(store, mountPoint, cacheDir, tune, DriveMount.Options.of("it"));
    }

    MountFixture(ObjectStore store, Path mountPoint, Path cacheDir, UnaryOperator<DriveOptions> tune,
                 DriveMount.Options mountOptions) throws Exception {
        this.mountPoint = mountPoint;
        this.cacheDir = cacheDir;
        Files.createDirectories(mountPoint);
        cache = LocalCache.open(CacheOptions.defaults(cacheDir), Runnable::run);
        drive = Drive.open(store, cache.chunks(), cache.journal(), cache.index(), cache.transactions(),
                tune.apply(DriveOptions.standard().withListingTtl(Duration.ofSeconds(1), Duration.ofSeconds(1))
                        .withWriteBackDelay(Duration.ofMillis(200)).withHostName("it-host")));
        try {
            mount = DriveMount.mount(drive, mountPoint, mountOptions);
        } catch (DriveMount.MountException e) {
            drive.close();
            cache.close();
            throw e;
        }
    }

    /** Skips the test where no FUSE mount can be made (no /dev/fuse or no libfuse3). */
    static void assumeFuse() {
        assumeTrue(Files.exists(Path.of("/dev/fuse")), "no /dev/fuse");
        assumeTrue(Files.exists(Path.of("/usr/bin/fusermount3")) || Files.exists(Path.of("/bin/fusermount3")),
                "fuse3 is not installed");
    }

    Path path(String relative) {
        return mountPoint.resolve(relative);
    }

    /** Waits until everything is in the bucket. */
    void drain() {
        int left = drive.drain(Duration.ofMinutes(2), n -> { });
        if (left != 0) {
            throw new AssertionError(left + " operations still pending: " + drive.status());
        }
    }

    @Override
    public void close() {
        mount.close();
        drive.drain(Duration.ofMinutes(2), n -> { });
        drive.close();
        cache.close();
    }

    /** The regular files under {@code root}, by path relative to it, with their bytes, in order of path. */
    static java.util.SortedMap<String, byte[]> filesUnder(Path root) throws IOException {
        java.util.SortedMap<String, byte[]> out = new java.util.TreeMap<>();
        try (java.util.stream.Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                out.put(root.relativize(p).toString(), Files.readAllBytes(p));
            }
        }
        return out;
    }

    static void unmountQuietly(Path mountPoint) {
        try {
            Process p = new ProcessBuilder("fusermount3", "-u", "-z", mountPoint.toString()).redirectErrorStream(true).start();
            p.waitFor(10, TimeUnit.SECONDS);
        } catch (IOException e) {
            // nothing mounted
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** What {@code command} prints on standard output; it must exit with 0. */
    static String output(Path dir, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + String.join(" ", command));
        }
        if (p.exitValue() != 0) {
            throw new AssertionError(String.join(" ", command) + " exited with " + p.exitValue());
        }
        return out;
    }

    static int run(Path dir, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).inheritIO().start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + String.join(" ", command));
        }
        return p.exitValue();
    }
}
