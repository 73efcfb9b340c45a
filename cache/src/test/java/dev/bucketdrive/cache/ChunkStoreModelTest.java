package dev.bucketdrive.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bucketdrive.core.local.ChunkKey;
import dev.bucketdrive.core.local.ChunkStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterTry;
import net.jqwik.api.lifecycle.BeforeTry;

/**
 * Random sequences of chunk operations, reopens included, checked against a plain model: a map from
 * chunk to its bytes, whether they are dirty, and which version a clean chunk belongs to.
 */
class ChunkStoreModelTest {

    private static final int CS = 4096;
    private static final long FILE = 1;

    private record Model(byte[] bytes, boolean dirty, String etag) {
    }

    private Path dir;
    private LocalCache cache;

    @BeforeTry
    void open() throws IOException {
        dir = Files.createTempDirectory("chunk-model");
        cache = openCache();
    }

    private LocalCache openCache() {
        return LocalCache.open(CacheOptions.defaults(dir).withChunkSize(CS).withMinFreeBytes(0), Runnable::run);
    }

    @AfterTry
    void close() throws IOException {
        cache.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }

    @Provide
    Arbitrary<List<int[]>> operations() {
        // [op, chunk index, offset, length, value]
        Arbitrary<int[]> op = Arbitraries.integers().between(0, 9).flatMap(kind ->
                Arbitraries.integers().between(0, 3).flatMap(index ->
                        Arbitraries.integers().between(0, CS - 1).flatMap(offset ->
                                Arbitraries.integers().between(0, 600).flatMap(length ->
                                        Arbitraries.integers().between(1, 250).map(value ->
                                                new int[] {kind, index, offset, Math.min(length, CS - offset), value})))));
        return op.list().ofMinSize(1).ofMaxSize(40);
    }

    /** Reads chunk {@code key} as a reader of {@code version} would; compares it with the model's {@code m}. */
    private void readsAsModelHas(ChunkKey key, Model m, int version) {
        ByteBuffer dst = ByteBuffer.allocate(CS);
        int n = cache.chunks().read(key, m == null ? "v" + version : m.etag, 0, dst);
        if (m == null) {
            assertThat(n).isEqualTo(-1);
        } else {
            assertThat(Arrays.copyOf(dst.array(), n)).isEqualTo(m.bytes);
        }
    }

    @Property(tries = 60)
    void behavesLikeTheModel(@ForAll("operations") List<int[]> ops) {
        Map<Integer, Model> model = new HashMap<>();
        int version = 0;
        for (int[] op : ops) {
            ChunkKey key = new ChunkKey(FILE, op[1]);
            switch (op[0]) {
                case 0 -> { // write (of nothing: changes nothing, as in POSIX)
                    Model m = model.get(op[1]);
                    byte[] old = m == null ? new byte[0] : m.bytes;
                    // A third of the writes go at the chunk's end, as files are written: small ones append.
                    int offset = op[4] % 3 == 0 ? Math.min(old.length, CS - 1) : op[2];
                    int length = Math.min(op[3], CS - offset);
                    if (length == 0) {
                        continue;
                    }
                    byte[] data = new byte[length];
                    Arrays.fill(data, (byte) op[4]);
                    cache.chunks().write(key, offset, ByteBuffer.wrap(data));
                    byte[] now = Arrays.copyOf(old, Math.max(old.length, offset + length));
                    System.arraycopy(data, 0, now, offset, length);
                    model.put(op[1], new Model(now, true, null));
                }
                case 1 -> { // fetch from the bucket: whole, or as a body comes (in pieces; a fifth cut off)
                    boolean streamed = op[4] % 2 == 1;
                    // Half the streamed ones nearly a whole chunk: through a file of their own, not the row.
                    boolean big = op[4] % 4 == 1;
                    byte[] data = new byte[big ? CS - op[2] % 1024 : op[3]];
                    Arrays.fill(data, (byte) op[4]);
                    String etag = "v" + version;
                    boolean stored = !streamed || op[4] % 5 != 0;
                    if (!streamed) {
                        cache.chunks().putClean(key, etag, ByteBuffer.wrap(data));
                    } else {
                        try (ChunkStore.CleanChunkWriter writer = cache.chunks().storeClean(key, etag)) {
                            int piece = op[2] % 997 + 1;
                            for (int at = 0; at < data.length; at += piece) {
                                writer.append(ByteBuffer.wrap(data, at, Math.min(piece, data.length - at)));
                            }
                            if (stored) {
                                writer.store();
                            }
                        }
                    }
                    Model m = model.get(op[1]);
                    if (stored && (m == null || !m.dirty)) {
                        model.put(op[1], new Model(data, false, etag));
                    }
                    readsAsModelHas(key, model.get(op[1]), version); // what a waiting reader does next
                }
                case 2 -> { // upload everything dirty as a new version
                    String base = "v" + version;
                    String next = "v" + (++version);
                    cache.chunks().markUploaded(FILE, base, next, cache.chunks().dirtyChunks(FILE));
                    model.replaceAll((i, m) -> m.dirty || base.equals(m.etag) ? new Model(m.bytes, false, next) : null);
                    model.values().removeIf(java.util.Objects::isNull);
                }
                case 3 -> { // truncate
                    long size = (long) op[1] * CS + op[2];
                    cache.chunks().truncate(FILE, size);
                    for (int i : List.copyOf(model.keySet())) {
                        long start = (long) i * CS;
                        Model m = model.get(i);
                        if (start >= size) {
                            model.remove(i);
                        } else if (start + m.bytes.length > size) {
                            model.put(i, new Model(Arrays.copyOf(m.bytes, (int) (size - start)), true, null));
                        }
                    }
                }
                case 4, 9 -> { // reopen, after a stop or (more often) as after a kill
                    if (op[0] == 4 && op[4] % 2 == 0) {
                        cache.close();
                    } else {
                        cache.closeAsAKillWould();
                    }
                    cache = openCache();
                }
                case 5 -> cache.chunks().evict();
                case 6 -> ((SqliteChunkStore) cache.chunks()).forgetFileChunks(); // read from the table next
                default -> readsAsModelHas(key, model.get(op[1]), version);
            }
            long dirtyBytes = model.values().stream().filter(Model::dirty).mapToLong(m -> m.bytes.length).sum();
            long totalBytes = model.values().stream().mapToLong(m -> m.bytes.length).sum();
            assertThat(cache.chunks().usage().dirtyBytes()).isEqualTo(dirtyBytes);
            assertThat(cache.chunks().usage().totalBytes()).isEqualTo(totalBytes);
            assertThat(cache.chunks().dirtyChunks(FILE).keySet())
                    .containsExactlyInAnyOrderElementsOf(model.entrySet().stream()
                            .filter(e -> e.getValue().dirty).map(Map.Entry::getKey).toList());
        }
    }
}
