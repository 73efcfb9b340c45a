package dev.bucketdrive.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bucketdrive.core.store.ObjectInfo;
import dev.bucketdrive.s3.S3ObjectStore;
import dev.bucketdrive.s3.S3ProxyServer;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code bucketdrive} command as a separate process: bad input fails fast with one line, and a
 * mount killed with SIGKILL after files were closed but before they uploaded loses nothing.
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
