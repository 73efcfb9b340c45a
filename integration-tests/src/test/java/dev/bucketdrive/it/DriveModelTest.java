package dev.bucketdrive.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bucketdrive.core.store.InMemoryObjectStore;
import dev.bucketdrive.core.vfs.DirectoryEntry;
import dev.bucketdrive.core.vfs.DriveOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import org.junit.jupiter.api.RepeatedTest;

/**
 * Random sequences of file operations against the drive and against a map of names to bytes; after
 * every step the drive shows what the map holds, and after the uploads so does the bucket — across
 * restarts of the drive too.
 */
class DriveModelTest {

    sealed interface Step permits Write, Truncate, Rename, Unlink, Drain, Restart {
    }

    record Write(String name, int offset, int length, long seed) implements Step {
    }

    record Truncate(String name, int size) implements Step {
    }

    record Rename(String from, String to) implements Step {
    }

    record Unlink(String name) implements Step {
    }

    record Drain() implements Step {
    }

    record Restart() implements Step {
    }

    private static final int CHUNK = 4096;
    private static final List<String> NAMES = List.of("a", "b", "c", "d/e");

    @Provide
    Arbitrary<List<Step>> steps() {
        Arbitrary<String> name = Arbitraries.of(NAMES);
        Arbitrary<Step> write = Combinators.combine(name, Arbitraries.integers().between(0, 5 * CHUNK),
                Arbitraries.integers().between(1, 3 * CHUNK), Arbitraries.longs()).as(Write::new);
        Arbitrary<Step> truncate = Combinators.combine(name, Arbitraries.integers().between(0, 4 * CHUNK)).as(Truncate::new);
        Arbitrary<Step> rename = Combinators.combine(name, name).as(Rename::new);
        Arbitrary<Step> unlink = name.map(Unlink::new);
        Arbitrary<Step> drain = Arbitraries.just(new Drain());
        Arbitrary<Step> restart = Arbitraries.just(new Restart());
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, write), net.jqwik.api.Tuple.of(2, truncate), net.jqwik.api.Tuple.of(2, rename),
                net.jqwik.api.Tuple.of(1, unlink), net.jqwik.api.Tuple.of(2, drain), net.jqwik.api.Tuple.of(1, restart))
                .list().ofMinSize(1).ofMaxSize(30);
    }

    @Property(tries = 40)
    void theDriveAndTheBucketMatchAPlainModel(@ForAll("steps") List<Step> steps) throws IOException {
        run(steps, o -> o);
    }

    /**
     * The same with uploads held for a pause in writing, as a mount holds them: uploads of closed files
     * start between the steps or wait for the next drain, while renames and deletes run at once.
     */
    @Property(tries = 40)
    void theDriveMatchesTheModelWithUploadsWaitingForAPauseInWriting(@ForAll("steps") List<Step> steps)
            throws IOException {
        run(steps, o -> o.withWriteBackDelay(Duration.ofMillis(3), Duration.ofMillis(20)));
    }

    private static final int BIG_CHUNK = 1 << 20;

    /**
     * Files of up to 24 MiB, written in 1 MiB pieces as FUSE hands them over: above 16 MiB they
     * upload in parts, and a new file written in order sends its 5 MiB parts while it is open (from
     * 10 MiB on), so its streamed parts meet rewrites, cuts, renames, restarts and the close's upload,
     * with uploads held for a pause in writing as a mount holds them. 10 tries: about half stream
     * (250 with a fresh seed and 150 with uploads at once passed in session 29).
     */
    @Property(tries = 10, edgeCases = EdgeCasesMode.NONE)
    void theDriveMatchesTheModelWhenBigFilesStreamTheirParts(@ForAll("bigSteps") List<Step> steps)
            throws IOException {
        run(steps, BIG_CHUNK, o -> o.withWriteBackDelay(Duration.ofMillis(3), Duration.ofMillis(20)));
    }

    @Provide
    Arbitrary<List<Step>> bigSteps() {
        int most = 24 * BIG_CHUNK;
        Arbitrary<String> name = Arbitraries.of(NAMES);
        Arbitrary<Integer> offset = Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(3, Arbitraries.just(0)),
                net.jqwik.api.Tuple.of(1, anyUpTo(most)));
        Arbitrary<Step> write = Combinators.combine(name, offset, anyUpTo(most).map(n -> Math.max(1, n)),
                Arbitraries.longs()).as(Write::new);
        Arbitrary<Step> truncate = Combinators.combine(name, anyUpTo(most)).as(Truncate::new);
        Arbitrary<Step> rename = Combinators.combine(name, name).as(Rename::new);
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, write), net.jqwik.api.Tuple.of(1, truncate), net.jqwik.api.Tuple.of(1, rename),
                net.jqwik.api.Tuple.of(1, name.map(Unlink::new)), net.jqwik.api.Tuple.of(1, Arbitraries.just(new Drain())),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(new Restart())))
                .list().ofMinSize(1).ofMaxSize(10);
    }

    /** Spread evenly: jqwik's usual numbers are mostly small, and small files do not stream. */
    private static Arbitrary<Integer> anyUpTo(int most) {
        return Arbitraries.integers().between(0, most).withDistribution(RandomDistribution.uniform());
    }

    /**
     * A sequence this property once found: the cut comes while the edit's upload runs, and lost the
     * edit when the upload turned the chunks it sent clean under a file that had stopped reading the
     * bucket. A race, so it is run many times.
     */
    @RepeatedTest(100)
    void aCutWhileAnEditUploadsKeepsTheEdit() throws IOException {
        run(List.of(new Write("a", 4108, 12281, 1), new Write("a", 2, 12287, 2), new Truncate("a", 16384)), o -> o);
    }

    private static void run(List<Step> steps, UnaryOperator<DriveOptions> tune) throws IOException {
        run(steps, CHUNK, tune);
    }

    private static void run(List<Step> steps, int chunkSize, UnaryOperator<DriveOptions> tune) throws IOException {
        Path dir = Files.createTempDirectory("drive-model");
        try {
            runIn(dir, steps, chunkSize, tune);
        } finally {
            DriveHarness.deleteTree(dir);
        }
    }

    private static void runIn(Path dir, List<Step> steps, int chunkSize, UnaryOperator<DriveOptions> tune)
            throws IOException {
        InMemoryObjectStore bucket = new InMemoryObjectStore();
        Map<String, byte[]> model = new TreeMap<>();
        try (DriveHarness h = new DriveHarness(bucket, dir.resolve("cache"), chunkSize, tune)) {
            h.drive.mkdir("/d", 0755);
            for (Step step : steps) {
                try {
                    apply(h, model, step);
                    check(h, model, steps, step);
                } catch (RuntimeException e) {
                    throw new AssertionError("after " + step + " of " + steps + ": " + e, e);
                }
            }
            h.drain();
            for (Map.Entry<String, byte[]> e : model.entrySet()) {
                byte[] stored = bucket.get(e.getKey(), 0, Integer.MAX_VALUE, null).data();
                assertThat(Arrays.equals(stored, e.getValue())).as("object %s after %s", e.getKey(), steps).isTrue();
            }
            assertThat(bucket.keys().stream().filter(k -> !k.endsWith("/")).toList())
                    .containsExactlyElementsOf(model.keySet());
        }
    }

    private static void check(DriveHarness h, Map<String, byte[]> model, List<Step> steps, Step step) {
        for (Map.Entry<String, byte[]> e : model.entrySet()) {
            byte[] seen = h.read("/" + e.getKey());
            assertThat(Arrays.equals(seen, e.getValue()))
                    .as("%s after %s (status %s) of %s: %s bytes, expected %s; first difference at %s", e.getKey(),
                            step, h.drive.status(), steps, seen.length, e.getValue().length,
                            Arrays.mismatch(seen, e.getValue()))
                    .isTrue();
        }
        assertThat(names(h)).as("names after %s", step).isEqualTo(model.keySet().stream().toList());
    }

    private static List<String> names(DriveHarness h) {
        java.util.ArrayList<String> out = new java.util.ArrayList<>();
        for (DirectoryEntry e : h.drive.readdir("/")) {
            if (!e.attributes().isDirectory()) {
                out.add(e.name());
            }
        }
        for (DirectoryEntry e : h.drive.readdir("/d")) {
            out.add("d/" + e.name());
        }
        out.sort(null);
        return out;
    }

    private static void apply(DriveHarness h, Map<String, byte[]> model, Step step) {
        switch (step) {
            case Write w -> {
                byte[] data = new byte[w.length()];
                new Random(w.seed()).nextBytes(data);
                byte[] old = model.getOrDefault(w.name(), new byte[0]);
                byte[] now = Arrays.copyOf(old, Math.max(old.length, w.offset() + w.length()));
                System.arraycopy(data, 0, now, w.offset(), data.length);
                model.put(w.name(), now);
                if (old.length == 0 && !h.exists("/" + w.name())) {
                    h.write("/" + w.name(), new byte[0]);
                }
                writeInPieces(h, "/" + w.name(), w.offset(), data);
            }
            case Truncate t -> {
                if (model.containsKey(t.name())) {
                    model.put(t.name(), Arrays.copyOf(model.get(t.name()), t.size()));
                    h.drive.truncate("/" + t.name(), -1, t.size());
                }
            }
            case Rename r -> {
                if (model.containsKey(r.from()) && !r.from().equals(r.to())) {
                    model.put(r.to(), model.remove(r.from()));
                    h.drive.rename("/" + r.from(), "/" + r.to(), false);
                }
            }
            case Unlink u -> {
                if (model.remove(u.name()) != null) {
                    h.drive.unlink("/" + u.name());
                }
            }
            case Drain d -> h.drain();
            case Restart r -> h.restart();
        }
    }

    /** One open, then writes of at most 1 MiB (FUSE's largest), then the close. */
    private static void writeInPieces(DriveHarness h, String path, long offset, byte[] data) {
        long fh = h.drive.open(path, Set.of(StandardOpenOption.WRITE));
        for (int at = 0; at < data.length; ) {
            at += h.drive.write(fh, ByteBuffer.wrap(data, at, Math.min(BIG_CHUNK, data.length - at)), offset + at);
        }
        h.drive.flush(fh);
        h.drive.release(fh);
    }
}
