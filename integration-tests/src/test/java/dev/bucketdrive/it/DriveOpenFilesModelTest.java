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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * Random sequences of file operations with files held open across them: writes and cuts through
 * handles and by name, renames of files and of their directory, unlinks and renames over files that
 * are open, fsyncs, closes, drains and restarts. A model of names, files and handles says what each
 * name and each handle must read after every step (Linux semantics: a handle follows its file through
 * renames, and a file whose name is gone stays readable and writable through its handles until the
 * last closes); at the end the bucket must hold exactly the named files.
 */
class DriveOpenFilesModelTest {

    sealed interface Step permits Open, HandleWrite, HandleCut, Fsync, Close, Write, Cut, Rename, Unlink,
            RenameDirectory, Drain, Restart {
    }

    /** Opens {@code name} for reading and writing in {@code slot} (closing what the slot held), made if missing. */
    record Open(int slot, String name) implements Step {
    }

    record HandleWrite(int slot, int offset, int length, long seed) implements Step {
    }

    /** ftruncate(2) through the slot's handle. */
    record HandleCut(int slot, int size) implements Step {
    }

    record Fsync(int slot) implements Step {
    }

    record Close(int slot) implements Step {
    }

    /** An open of the name, a write and a close, as a program that writes a file once does. */
    record Write(String name, int offset, int length, long seed) implements Step {
    }

    /** truncate(2) by name. */
    record Cut(String name, int size) implements Step {
    }

    record Rename(String from, String to) implements Step {
    }

    record Unlink(String name) implements Step {
    }

    /** Renames the directory {@code d} to {@code x}, or back. */
    record RenameDirectory() implements Step {
    }

    /** Waits for the uploads, or while files are open (their uploads wait for the close) for a moment. */
    record Drain() implements Step {
    }

    /** Closes every handle, then stops the drive as a crash would and opens it again on the same cache. */
    record Restart() implements Step {
    }

    private static final int CHUNK = 4096;
    private static final int SLOTS = 3;
    /** Names as the model keeps them: {@code d/} stands for the directory under whichever name it has now. */
    private static final List<String> NAMES = List.of("a", "b", "d/e", "d/f");

    @Provide
    Arbitrary<List<Step>> steps() {
        Arbitrary<String> name = Arbitraries.of(NAMES);
        Arbitrary<Integer> slot = Arbitraries.integers().between(0, SLOTS - 1);
        Arbitrary<Integer> offset = Arbitraries.integers().between(0, 5 * CHUNK);
        Arbitrary<Integer> length = Arbitraries.integers().between(1, 3 * CHUNK);
        Arbitrary<Integer> size = Arbitraries.integers().between(0, 5 * CHUNK);
        return Arbitraries.<Step>frequencyOf(
                        Tuple.of(3, Combinators.combine(slot, name).as(Open::new)),
                        Tuple.of(5, Combinators.combine(slot, offset, length, Arbitraries.longs()).as(HandleWrite::new)),
                        Tuple.of(2, Combinators.combine(slot, size).as(HandleCut::new)),
                        Tuple.of(1, slot.map(Fsync::new)),
                        Tuple.of(2, slot.map(Close::new)),
                        Tuple.of(2, Combinators.combine(name, offset, length, Arbitraries.longs()).as(Write::new)),
                        Tuple.of(1, Combinators.combine(name, size).as(Cut::new)),
                        Tuple.of(3, Combinators.combine(name, name).as(Rename::new)),
                        Tuple.of(2, name.map(Unlink::new)),
                        Tuple.of(1, Arbitraries.just(new RenameDirectory())),
                        Tuple.of(1, Arbitraries.just(new Drain())),
                        Tuple.of(1, Arbitraries.just(new Restart())))
                .list().ofMinSize(1).ofMaxSize(40);
    }

    @Property(tries = 60)
    void namesAndOpenHandlesReadWhatTheModelSays(@ForAll("steps") List<Step> steps) throws IOException {
        run(steps, o -> o);
    }

    /** The same with uploads held for a pause in writing, as a mount holds them. */
    @Property(tries = 60)
    void namesAndOpenHandlesReadWhatTheModelSaysWithUploadsWaitingForAPause(@ForAll("steps") List<Step> steps)
            throws IOException {
        run(steps, o -> o.withWriteBackDelay(Duration.ofMillis(3), Duration.ofMillis(20)));
    }

    /** The files, the names that lead to them, and the handles open on them. */
    private static final class Model {
        final Map<String, Integer> names = new TreeMap<>();
        final Map<Integer, byte[]> files = new HashMap<>();
        final Map<Integer, Held> slots = new HashMap<>();
        boolean directoryRenamed;
        int nextFile;

        record Held(long fh, int file) {
        }

        String path(String name) {
            return name.startsWith("d/") ? (directoryRenamed ? "/x/" : "/d/") + name.substring(2) : "/" + name;
        }

        String key(String name) {
            return path(name).substring(1);
        }

        int create(String name) {
            int file = nextFile++;
            files.put(file, new byte[0]);
            names.put(name, file);
            return file;
        }

        void write(int file, int offset, byte[] data) {
            byte[] old = files.get(file);
            byte[] now = Arrays.copyOf(old, Math.max(old.length, offset + data.length));
            System.arraycopy(data, 0, now, offset, data.length);
            files.put(file, now);
        }

        void cut(int file, int size) {
            files.put(file, Arrays.copyOf(files.get(file), size));
        }

        /** Forgets a file no name and no handle leads to. */
        void forgetIfUnreachable(int file) {
            if (!names.containsValue(file) && slots.values().stream().noneMatch(h -> h.file() == file)) {
                files.remove(file);
            }
        }
    }

    private static void run(List<Step> steps, UnaryOperator<DriveOptions> tune) throws IOException {
        Path dir = Files.createTempDirectory("drive-open-files-model");
        try {
            runIn(dir, steps, tune);
        } finally {
            DriveHarness.deleteTree(dir);
        }
    }

    private static void runIn(Path dir, List<Step> steps, UnaryOperator<DriveOptions> tune) {
        InMemoryObjectStore bucket = new InMemoryObjectStore();
        Model model = new Model();
        try (DriveHarness h = new DriveHarness(bucket, dir.resolve("cache"), CHUNK, tune)) {
            h.drive.mkdir("/d", 0755);
            for (Step step : steps) {
                try {
                    apply(h, model, step);
                    check(h, model);
                } catch (RuntimeException | AssertionError e) {
                    throw new AssertionError("at " + step + " of " + steps + " (status " + h.drive.status() + "): " + e, e);
                }
            }
            closeAll(h, model);
            h.drain();
            Map<String, byte[]> expected = new TreeMap<>();
            model.names.forEach((name, file) -> expected.put(model.key(name), model.files.get(file)));
            assertThat(bucket.keys().stream().filter(k -> !k.endsWith("/")).toList())
                    .as("keys after %s", steps).containsExactlyElementsOf(expected.keySet());
            for (Map.Entry<String, byte[]> e : expected.entrySet()) {
                byte[] stored = bucket.get(e.getKey(), 0, Integer.MAX_VALUE, null).data();
                assertThat(Arrays.equals(stored, e.getValue())).as("object %s after %s", e.getKey(), steps).isTrue();
            }
        }
    }

    private static void apply(DriveHarness h, Model m, Step step) {
        switch (step) {
            case Open o -> {
                close(h, m, o.slot());
                Integer file = m.names.get(o.name());
                Set<StandardOpenOption> flags = Set.of(StandardOpenOption.READ, StandardOpenOption.WRITE);
                long fh;
                if (file == null) {
                    fh = h.drive.create(m.path(o.name()), 0644, flags);
                    file = m.create(o.name());
                } else {
                    fh = h.drive.open(m.path(o.name()), flags);
                }
                m.slots.put(o.slot(), new Model.Held(fh, file));
            }
            case HandleWrite w -> {
                Model.Held held = m.slots.get(w.slot());
                if (held != null) {
                    byte[] data = bytes(w.length(), w.seed());
                    m.write(held.file(), w.offset(), data);
                    h.drive.write(held.fh(), ByteBuffer.wrap(data), w.offset());
                }
            }
            case HandleCut c -> {
                Model.Held held = m.slots.get(c.slot());
                if (held != null) {
                    m.cut(held.file(), c.size());
                    h.drive.truncate(null, held.fh(), c.size());
                }
            }
            case Fsync f -> {
                Model.Held held = m.slots.get(f.slot());
                if (held != null) {
                    h.drive.fsync(held.fh());
                }
            }
            case Close c -> close(h, m, c.slot());
            case Write w -> {
                byte[] data = bytes(w.length(), w.seed());
                Integer file = m.names.get(w.name());
                long fh;
                if (file == null) {
                    fh = h.drive.create(m.path(w.name()), 0644, Set.of(StandardOpenOption.WRITE));
                    file = m.create(w.name());
                } else {
                    fh = h.drive.open(m.path(w.name()), Set.of(StandardOpenOption.WRITE));
                }
                m.write(file, w.offset(), data);
                h.drive.write(fh, ByteBuffer.wrap(data), w.offset());
                h.drive.flush(fh);
                h.drive.release(fh);
            }
            case Cut c -> {
                Integer file = m.names.get(c.name());
                if (file != null) {
                    m.cut(file, c.size());
                    h.drive.truncate(m.path(c.name()), -1, c.size());
                }
            }
            case Rename r -> {
                Integer file = m.names.get(r.from());
                if (file != null && !r.from().equals(r.to())) {
                    h.drive.rename(m.path(r.from()), m.path(r.to()), false);
                    Integer replaced = m.names.put(r.to(), m.names.remove(r.from()));
                    if (replaced != null) {
                        m.forgetIfUnreachable(replaced);
                    }
                }
            }
            case Unlink u -> {
                Integer file = m.names.get(u.name());
                if (file != null) {
                    h.drive.unlink(m.path(u.name()));
                    m.names.remove(u.name());
                    m.forgetIfUnreachable(file);
                }
            }
            case RenameDirectory r -> {
                String from = m.directoryRenamed ? "/x" : "/d";
                String to = m.directoryRenamed ? "/d" : "/x";
                h.drive.rename(from, to, false);
                m.directoryRenamed = !m.directoryRenamed;
            }
            case Drain d -> {
                if (m.slots.isEmpty()) {
                    h.drain();
                } else {
                    // A file open for writing uploads after its last close, so only let what can run, run.
                    h.drive.drain(Duration.ofMillis(100), n -> { });
                }
            }
            case Restart r -> {
                closeAll(h, m);
                h.restart();
            }
        }
    }

    private static void close(DriveHarness h, Model m, int slot) {
        Model.Held held = m.slots.remove(slot);
        if (held != null) {
            h.drive.flush(held.fh());
            h.drive.release(held.fh());
            m.forgetIfUnreachable(held.file());
        }
    }

    private static void closeAll(DriveHarness h, Model m) {
        for (int slot = 0; slot < SLOTS; slot++) {
            close(h, m, slot);
        }
    }

    private static void check(DriveHarness h, Model m) {
        for (Map.Entry<String, Integer> e : m.names.entrySet()) {
            assertSame(h.read(m.path(e.getKey())), m.files.get(e.getValue()), "name " + e.getKey());
        }
        for (Map.Entry<Integer, Model.Held> e : m.slots.entrySet()) {
            byte[] expected = m.files.get(e.getValue().file());
            assertSame(h.readAll(e.getValue().fh()), expected, "handle in slot " + e.getKey());
            assertThat(h.drive.getattr(e.getValue().fh()).size()).as("size through slot %s", e.getKey())
                    .isEqualTo(expected.length);
        }
        assertThat(names(h, m)).as("names").isEqualTo(new ArrayList<>(m.names.keySet()));
    }

    private static void assertSame(byte[] seen, byte[] expected, String what) {
        assertThat(Arrays.equals(seen, expected))
                .as("%s: %s bytes, expected %s; first difference at %s", what, seen.length, expected.length,
                        Arrays.mismatch(seen, expected))
                .isTrue();
    }

    private static List<String> names(DriveHarness h, Model m) {
        List<String> out = new ArrayList<>();
        for (DirectoryEntry e : h.drive.readdir("/")) {
            if (!e.attributes().isDirectory()) {
                out.add(e.name());
            }
        }
        for (DirectoryEntry e : h.drive.readdir(m.directoryRenamed ? "/x" : "/d")) {
            out.add("d/" + e.name());
        }
        out.sort(null);
        return out;
    }

    private static byte[] bytes(int length, long seed) {
        byte[] data = new byte[length];
        new Random(seed).nextBytes(data);
        return data;
    }
}
