package dev.bucketdrive.it;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * A process of its own that reads and writes one file through shared memory mappings, for the mount
 * tests. Not the test's own JVM: that JVM also serves the mount, and a thread touching a mapped page
 * waits in the kernel for the mount's answer without reaching a safepoint, so a collection the
 * mount's threads need meanwhile never starts and the JVM hangs (it did once).
 *
 * <p>The process reads one command per line and answers each with a line, "ok" or what failed:
 * {@code write OFFSET LENGTH SEED} fills the range with {@link #bytes}{@code (LENGTH, SEED)} (a range
 * past the end grows the file, as a mapping does), {@code read OFFSET LENGTH FILE} copies the range
 * into a local file.
 */
final class MappedFileWorker implements AutoCloseable {

    private final Process process;
    private final PrintStream commands;
    private final BufferedReader answers;

    private MappedFileWorker(Path file) throws IOException {
        String classes = Path.of(MappedFileWorker.class.getProtectionDomain().getCodeSource().getLocation().getPath())
                .toString();
        process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", classes, MappedFileWorker.class.getName(), file.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        commands = new PrintStream(process.getOutputStream(), true, UTF_8);
        answers = new BufferedReader(new InputStreamReader(process.getInputStream(), UTF_8));
    }

    /** Starts a process that holds {@code file} open for reading and writing until {@link #close}. */
    static MappedFileWorker open(Path file) throws IOException {
        return new MappedFileWorker(file);
    }

    /** The bytes {@code write} puts in a range. */
    static byte[] bytes(int length, long seed) {
        byte[] data = new byte[length];
        new Random(seed).nextBytes(data);
        return data;
    }

    void write(long offset, int length, long seed) throws IOException {
        call("write " + offset + " " + length + " " + seed);
    }

    byte[] read(long offset, int length, Path scratch) throws IOException {
        call("read " + offset + " " + length + " " + scratch);
        return Files.readAllBytes(scratch);
    }

    private void call(String command) throws IOException {
        commands.println(command);
        String answer = answers.readLine();
        if (!"ok".equals(answer)) {
            throw new AssertionError(command + ": " + answer);
        }
    }

    /** Ends the process, which unmaps and closes the file. */
    @Override
    public void close() throws IOException {
        commands.close();
        try {
            if (!process.waitFor(1, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new AssertionError("the mapping process did not end");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, UTF_8));
        try (FileChannel channel = FileChannel.open(Path.of(args[0]), StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            for (String line; (line = in.readLine()) != null; ) {
                String[] word = line.split(" ");
                long offset = Long.parseLong(word[1]);
                int length = Integer.parseInt(word[2]);
                try (Arena arena = Arena.ofConfined()) {
                    if (word[0].equals("write")) {
                        MemorySegment mapped = channel.map(FileChannel.MapMode.READ_WRITE, offset, length, arena);
                        MemorySegment.copy(bytes(length, Long.parseLong(word[3])), 0, mapped, JAVA_BYTE, 0, length);
                        mapped.force();
                    } else {
                        MemorySegment mapped = channel.map(FileChannel.MapMode.READ_ONLY, offset, length, arena);
                        Files.write(Path.of(word[3]), mapped.toArray(JAVA_BYTE));
                    }
                    System.out.println("ok");
                } catch (IOException | RuntimeException e) {
                    System.out.println("failed: " + e);
                }
            }
        }
    }
}
