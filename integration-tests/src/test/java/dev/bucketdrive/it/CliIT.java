package dev.bucketdrive.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bucketdrive.core.store.ObjectInfo;
import dev.bucketdrive.s3.S3ObjectStore;
import dev.bucketdrive.s3.S3ProxyServer;
import java.io.File;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code bucketdrive} command as a separate process: bad input fails fast with one line, and a
 * mount killed with SIGKILL after files were closed loses nothing, whether they had uploaded, were
 * uploading or waited.
 */
class CliIT {

    static S3ProxyServer server;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() throws Exception {
        MountFixture.assumeFuse();
        server = new S3ProxyServer();
        server.createBucket("cli-it");
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    /** {@code java … dev.bucketdrive.cli.Main args}, with the test server's credentials in the environment. */
    private Process cli(Path log, String... args) throws Exception {
        Path root = Path.of(System.getProperty("user.dir")).getParent();
        Path jar = root.resolve("cli/target/bucketdrive.jar");
        assertThat(jar).as("cli is packaged before the integration tests run").exists();
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-cp", jar + File.pathSeparator + root.resolve("cli/target/lib") + File.separator + "*",
                "dev.bucketdrive.cli.Main"));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("AWS_ACCESS_KEY_ID", S3ProxyServer.IDENTITY);
        pb.environment().put("AWS_SECRET_ACCESS_KEY", S3ProxyServer.CREDENTIAL);
        pb.environment().put("AWS_REGION", "us-east-1");
        pb.environment().put("XDG_STATE_HOME", tmp.resolve("state").toString());
        return pb.start();
    }

    private String runToEnd(String... args) throws Exception {
        Path log = Files.createTempFile(tmp, "cli", ".log");
        Process p = cli(log, args);
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).as("exits within 10 s: %s", String.join(" ", args)).isTrue();
        assertThat(p.exitValue()).isNotZero();
        return Files.readString(log);
    }

    @Test
    void badInputGetsOneClearLineAndAFailingExitWithin10Seconds() throws Exception {
        Path mnt = Files.createDirectories(tmp.resolve("mnt"));
        String endpoint = server.endpoint().toString();
        assertThat(runToEnd("mount", "s3://no-such-bucket", mnt.toString(), "--endpoint", endpoint, "--path-style"))
                .contains("bucketdrive: the bucket no-such-bucket does not exist");
        assertThat(runToEnd("mount", "s3://cli-it", mnt.toString(), "--endpoint", "http://127.0.0.1:9", "--path-style"))
                .contains("bucketdrive: cannot reach http://127.0.0.1:9");
        assertThat(runToEnd("mount", "s3://cli-it", tmp.resolve("missing").toString(), "--endpoint", endpoint,
                "--path-style", "--cache-dir", tmp.resolve("c1").toString()))
                .contains("does not exist or is not a directory");
        assertThat(runToEnd("mount", "cli-it", mnt.toString())).contains("expected s3://BUCKET");
    }

    @Test
    void wrongCredentialsAreRefusedClearly() throws Exception {
        Path mnt = Files.createDirectories(tmp.resolve("mnt-creds"));
        Path log = Files.createTempFile(tmp, "cli", ".log");
        Path root = Path.of(System.getProperty("user.dir")).getParent();
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", root.resolve("cli/target/bucketdrive.jar") + File.pathSeparator
                        + root.resolve("cli/target/lib") + File.separator + "*", "dev.bucketdrive.cli.Main",
                "mount", "s3://cli-it", mnt.toString(), "--endpoint", server.endpoint().toString(), "--path-style");
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("AWS_ACCESS_KEY_ID", S3ProxyServer.IDENTITY);
        pb.environment().put("AWS_SECRET_ACCESS_KEY", "wrong-secret");
        Process p = pb.start();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isNotZero();
        String out = Files.readString(log);
        assertThat(out).contains("access to the bucket cli-it was denied").doesNotContain("wrong-secret");
    }

    @Test
    void killMinus9AfterCloseLosesNothing() throws Exception {
        Path mnt = Files.createDirectories(tmp.resolve("mnt-kill"));
        Path cache = tmp.resolve("cache-kill");
        Path log = tmp.resolve("mount.log");
        Process mount = cli(log, "mount", "s3://cli-it/killed", mnt.toString(), "--endpoint", server.endpoint().toString(),
                "--path-style", "--cache-dir", cache.toString(), "--write-back-delay", "1h");
        try {
            awaitMounted(mnt, mount, log);
            assertThat(runToEnd("mount", "s3://cli-it", mnt.toString(), "--endpoint", server.endpoint().toString(),
                    "--path-style", "--cache-dir", tmp.resolve("cache-busy").toString()))
                    .contains("is busy: something is mounted there");
            Random r = new Random(3);
            List<byte[]> contents = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                byte[] b = new byte[1 + r.nextInt(3_000_000)];
                r.nextBytes(b);
                contents.add(b);
                Files.write(mnt.resolve("file" + i + ".bin"), b);
            }
            mount.destroyForcibly();
            assertThat(mount.waitFor(10, TimeUnit.SECONDS)).isTrue();
            MountFixture.unmountQuietly(mnt);
            try (S3ObjectStore store = S3ObjectStore.create(server.options("cli-it").build())) {
                assertThat(store.list("killed/", null, null, 100).objects()).as("nothing uploaded before the kill").isEmpty();
                // The next mount on the same cache resumes the journal.
                Process again = cli(tmp.resolve("mount2.log"), "mount", "s3://cli-it/killed", mnt.toString(), "--endpoint",
                        server.endpoint().toString(), "--path-style", "--cache-dir", cache.toString());
                try {
                    awaitMounted(mnt, again, tmp.resolve("mount2.log"));
                    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                    while (store.list("killed/", null, null, 100).objects().size() < 20 && System.nanoTime() < deadline) {
                        Thread.sleep(200);
                    }
                    for (int i = 0; i < 20; i++) {
                        ObjectInfo info = store.head("killed/file" + i + ".bin");
                        assertThat(store.get(info.key(), 0, info.size(), null).data()).isEqualTo(contents.get(i));
                    }
                } finally {
                    again.destroy();
                    again.waitFor(60, TimeUnit.SECONDS);
                    MountFixture.unmountQuietly(mnt);
                }
            }
        } finally {
            mount.destroyForcibly();
            MountFixture.unmountQuietly(mnt);
        }
    }

    /**
     * Rounds of random changes through a mount (whole writes, some big enough to stream their parts,
     * edits in place, truncations, renames over other files, unlinks, renames of a directory), each
     * round ended by SIGKILL after a random pause, with uploads, copies and deletes under way or not.
     * Each remount on the same cache must show exactly the files as they were closed before the kill,
     * and in the end the bucket must hold exactly them.
     */
    @Test
    void killMinus9AtRandomMomentsLosesNoClosedFile() throws Exception {
        Path mnt = Files.createDirectories(tmp.resolve("mnt-crash"));
        Path cache = tmp.resolve("cache-crash");
        Random r = new Random(11);
        CrashModel model = new CrashModel("crash");
        int rounds = 6;
        for (int round = 0; round <= rounds; round++) {
            Path log = tmp.resolve("crash" + round + ".log");
            Process mount = cli(log, "mount", "s3://cli-it/" + model.prefix, mnt.toString(), "--endpoint", server.endpoint().toString(),
                    "--path-style", "--cache-dir", cache.toString(), "--write-back-delay", round % 2 == 0 ? "0s" : "1s");
            try {
                awaitMounted(mnt, mount, log);
                model.assertShownBy(mnt, "after the kill in round " + (round - 1));
                if (round == rounds) {
                    break;
                }
                if (round == 0) {
                    Files.createDirectory(mnt.resolve(model.directory));
                }
                for (int step = 0; step < 25; step++) {
                    model.change(mnt, r);
                }
                Thread.sleep(r.nextInt(1500));
            } finally {
                mount.destroyForcibly();
                assertThat(mount.waitFor(10, TimeUnit.SECONDS)).isTrue();
                MountFixture.unmountQuietly(mnt);
            }
        }
        try (S3ObjectStore store = S3ObjectStore.create(server.options("cli-it").build())) {
            // The last mount was killed too: what it had not sent waits in the cache, so mount once more.
            Process last = cli(tmp.resolve("crash-last.log"), "mount", "s3://cli-it/" + model.prefix, mnt.toString(), "--endpoint",
                    server.endpoint().toString(), "--path-style", "--cache-dir", cache.toString());
            try {
                awaitMounted(mnt, last, tmp.resolve("crash-last.log"));
                long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
                while (!model.keysMatch(store) && System.nanoTime() < deadline) {
                    Thread.sleep(200);
                }
                model.assertHeldBy(store);
            } finally {
                last.destroy();
                last.waitFor(60, TimeUnit.SECONDS);
                MountFixture.unmountQuietly(mnt);
            }
        }
    }

    /** The files a crash test closed, by path under the mount, and the name its one directory has now. */
    private static final class CrashModel {
        /** The key prefix mounted: the files' keys start with it and a slash. */
        final String prefix;
        final Map<String, byte[]> files = new TreeMap<>();
        String directory = "d";

        CrashModel(String prefix) {
            this.prefix = prefix;
        }

        List<String> pool() {
            return List.of("f0", "f1", "f2", "f3", directory + "/g0", directory + "/g1", directory + "/g2");
        }

        /** One random change through the mount, finished (the file closed) when this returns. */
        void change(Path mnt, Random r) throws Exception {
            List<String> existing = new ArrayList<>(files.keySet());
            String name = pool().get(r.nextInt(pool().size()));
            int kind = existing.isEmpty() ? 0 : r.nextInt(10);
            String some = existing.isEmpty() ? null : existing.get(r.nextInt(existing.size()));
            switch (kind) {
                case 0, 1, 2 -> {
                    byte[] b = new byte[r.nextInt(20) == 0 ? 17_000_000 + r.nextInt(5_000_000) : r.nextInt(300_000)];
                    r.nextBytes(b);
                    Files.write(mnt.resolve(name), b);
                    files.put(name, b);
                }
                case 3, 4 -> {
                    byte[] old = files.get(some);
                    int at = r.nextInt(old.length + 1);
                    byte[] piece = new byte[1 + r.nextInt(100_000)];
                    r.nextBytes(piece);
                    try (FileChannel ch = FileChannel.open(mnt.resolve(some), StandardOpenOption.WRITE)) {
                        ch.write(ByteBuffer.wrap(piece), at);
                    }
                    byte[] now = Arrays.copyOf(old, Math.max(old.length, at + piece.length));
                    System.arraycopy(piece, 0, now, at, piece.length);
                    files.put(some, now);
                }
                case 5 -> {
                    int size = r.nextInt(files.get(some).length + 50_000);
                    try (RandomAccessFile f = new RandomAccessFile(mnt.resolve(some).toFile(), "rw")) {
                        f.setLength(size);
                    }
                    files.put(some, Arrays.copyOf(files.get(some), size));
                }
                case 6, 7 -> {
                    if (!name.equals(some)) {
                        Files.move(mnt.resolve(some), mnt.resolve(name), StandardCopyOption.REPLACE_EXISTING);
                        files.put(name, files.remove(some));
                    }
                }
                case 8 -> {
                    Files.delete(mnt.resolve(some));
                    files.remove(some);
                }
                default -> {
                    String to = directory.equals("d") ? "e" : "d";
                    Files.move(mnt.resolve(directory), mnt.resolve(to));
                    Map<String, byte[]> moved = new TreeMap<>();
                    files.forEach((k, v) -> moved.put(k.startsWith(directory + "/") ? to + k.substring(directory.length()) : k, v));
                    files.clear();
                    files.putAll(moved);
                    directory = to;
                }
            }
        }

        void assertShownBy(Path mnt, String when) throws Exception {
            Map<String, byte[]> shown = MountFixture.filesUnder(mnt);
            assertThat(shown.keySet()).as("files %s", when).containsExactlyElementsOf(files.keySet());
            files.forEach((k, v) -> assertThat(Arrays.equals(shown.get(k), v))
                    .as("%s %s: %s bytes, expected %s; first difference at %s", k, when, shown.get(k).length, v.length,
                            Arrays.mismatch(shown.get(k), v))
                    .isTrue());
        }

        private List<String> keys(S3ObjectStore store) {
            List<String> out = new ArrayList<>();
            String token = null;
            do {
                var page = store.list(prefix + "/", null, token, 1000);
                page.objects().stream().map(o -> o.key().substring(prefix.length() + 1)).filter(k -> !k.endsWith("/"))
                        .forEach(out::add);
                token = page.nextToken();
            } while (token != null);
            out.sort(null);
            return out;
        }

        boolean keysMatch(S3ObjectStore store) {
            return keys(store).equals(new ArrayList<>(files.keySet()));
        }

        void assertHeldBy(S3ObjectStore store) {
            assertThat(keys(store)).as("keys in the bucket").containsExactlyElementsOf(files.keySet());
            files.forEach((k, v) -> assertThat(Arrays.equals(store.get(prefix + "/" + k, 0, v.length, null).data(), v))
                    .as("object %s", k).isTrue());
        }
    }

    private static void awaitMounted(Path mnt, Process p, Path log) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().anyMatch(l -> l.contains(" " + mnt + " "))) {
                return;
            }
            if (!p.isAlive()) {
                throw new AssertionError("mount exited: " + Files.readString(log, StandardCharsets.UTF_8));
            }
            Thread.sleep(100);
        }
        throw new AssertionError("not mounted after 60 s: " + Files.readString(log, StandardCharsets.UTF_8));
    }
}
