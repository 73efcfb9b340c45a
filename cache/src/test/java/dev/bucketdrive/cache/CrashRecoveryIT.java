package dev.bucketdrive.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bucketdrive.core.local.ChunkKey;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a writing process with SIGKILL at random moments, 50 times, and checks after each restart
 * that every acknowledged write is intact and dirty, and every file acknowledged as closed is
 * journalled too.
 */
class CrashRecoveryIT {

    private static final int ITERATIONS = 50;

    @TempDir
    Path work;

    @Test
    void acknowledgedWritesSurviveKillDashNine() throws Exception {
        Path cacheDir = work.resolve("cache");
        Path ackLog = work.resolve("acks.log");
        Files.createFile(ackLog);
        Random random = new Random(20261121);
        List<String> failures = new ArrayList<>();
        int checkedFiles = 0;
        for (int run = 0; run < ITERATIONS; run++) {
            Process child = startWriter(cacheDir, ackLog, run);
            Thread.sleep(50 + random.nextInt(400));
            child.destroyForcibly();
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            dropTornAck(ackLog);

            try (LocalCache cache = LocalCache.open(CacheOptions.defaults(cacheDir)
                    .withChunkSize(CrashWriter.CHUNK_SIZE).withMinFreeBytes(0), Runnable::run)) {
                List<String> acked = Files.readAllLines(ackLog).stream().filter(l -> !l.isBlank()).toList();
                for (String ack : acked) {
                    boolean closed = !ack.startsWith("w ");
                    verify(cache, Long.parseLong(closed ? ack : ack.substring(2)), closed, failures);
                }
                checkedFiles = (int) acked.stream().filter(l -> !l.startsWith("w ")).count();
            }
        }
        System.out.printf("crash test: %d SIGKILLs, %d acknowledged files checked after the last, %d failures%n",
                ITERATIONS, checkedFiles, failures.size());
        assertThat(checkedFiles).as("the writer got to acknowledge files").isGreaterThan(ITERATIONS);
        assertThat(failures).isEmpty();
    }

    /**
     * The kill can tear the acknowledgement being written: a write that crosses a page boundary stops
     * at it when the process gets SIGKILL (24000000 was logged as 240000 once). A line without its
     * newline was not acknowledged; it is cut, so that the next writer's lines start on their own.
     */
    private static void dropTornAck(Path ackLog) throws IOException {
        byte[] log = Files.readAllBytes(ackLog);
        int end = log.length;
        while (end > 0 && log[end - 1] != '\n') {
            end--;
        }
        if (end < log.length) {
            Files.write(ackLog, Arrays.copyOf(log, end));
        }
    }

    private static void verify(LocalCache cache, long fileId, boolean closed, List<String> failures) {
        if (closed && cache.journal().uploadOf(fileId).isEmpty()) {
            failures.add(fileId + ": upload not in the journal");
        }
        if (cache.chunks().dirtyChunks(fileId).size() != CrashWriter.CHUNKS_PER_FILE) {
            failures.add(fileId + ": dirty chunks " + cache.chunks().dirtyChunks(fileId).keySet());
        }
        for (int i = 0; i < CrashWriter.CHUNKS_PER_FILE; i++) {
            byte[] expected = CrashWriter.content(fileId, i);
            ByteBuffer dst = ByteBuffer.allocate(CrashWriter.CHUNK_SIZE);
            int n = cache.chunks().read(new ChunkKey(fileId, i), null, 0, dst);
            if (n != expected.length || !Arrays.equals(Arrays.copyOf(dst.array(), n), expected)) {
                failures.add(fileId + "-" + i + ": read " + n + " bytes, expected " + expected.length);
            }
        }
    }

    private static Process startWriter(Path cacheDir, Path ackLog, int run) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), CrashWriter.class.getName(),
                cacheDir.toString(), ackLog.toString(), Integer.toString(run))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        if (!"ready".equals(line)) {
            p.destroyForcibly();
            throw new IllegalStateException("the writer did not start: " + line);
        }
        return p;
    }
}
