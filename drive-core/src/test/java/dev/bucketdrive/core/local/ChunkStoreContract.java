package dev.bucketdrive.core.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The contract of {@link ChunkStore}, run by a subclass per implementation with a fresh, empty store. */
public abstract class ChunkStoreContract {

    protected abstract ChunkStore store();

    protected static byte[] bytes(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** Reads a whole chunk as the store serves it, or null on a miss. */
    protected byte[] readChunk(ChunkKey key, String etag) {
        ByteBuffer dst = ByteBuffer.allocate(store().chunkSize());
        int n = store().read(key, etag, 0, dst);
        return n < 0 ? null : Arrays.copyOf(dst.array(), n);
    }

    private static final ChunkKey K = new ChunkKey(7, 2);

    @Test
    void absentChunkIsAMiss() {
        assertThat(store().read(K, "e1", 0, ByteBuffer.allocate(10))).isEqualTo(-1);
        assertThat(store().length(K)).isEqualTo(-1);
        assertThat(store().dirtyChunks(7)).isEmpty();
    }

    @Test
    void cleanChunkIsServedOnlyForItsVersion() {
        byte[] data = bytes(store().chunkSize(), 1);
        store().putClean(K, "\"v1\"", ByteBuffer.wrap(data));
        assertThat(readChunk(K, "\"v1\"")).isEqualTo(data);
        assertThat(readChunk(K, "\"v2\"")).isNull();
        assertThat(readChunk(K, null)).isNull();
        assertThat(store().length(K)).isEqualTo(data.length);
        assertThat(store().usage().totalBytes()).isEqualTo(data.length);
        assertThat(store().usage().dirtyBytes()).isZero();
    }

    @Test
    void partialReadsCopyWhatFitsAndWhatExists() {
        byte[] data = bytes(1000, 2);
        store().putClean(K, "e", ByteBuffer.wrap(data));
        ByteBuffer small = ByteBuffer.allocate(10);
        assertThat(store().read(K, "e", 100, small)).isEqualTo(10);
        assertThat(small.array()).isEqualTo(Arrays.copyOfRange(data, 100, 110));
        assertThat(small.position()).isEqualTo(10);
        ByteBuffer big = ByteBuffer.allocate(100);
        assertThat(store().read(K, "e", 950, big)).isEqualTo(50);
        assertThat(store().read(K, "e", 1000, ByteBuffer.allocate(10))).isZero();
    }

    @Test
    void writesMakeADirtyChunkServedForAnyVersion() {
        byte[] part = bytes(10, 3);
        store().write(K, 100, ByteBuffer.wrap(part));
        byte[] got = readChunk(K, "whatever");
        assertThat(got).hasSize(110);
        assertThat(Arrays.copyOfRange(got, 0, 100)).containsOnly(0);
        assertThat(Arrays.copyOfRange(got, 100, 110)).isEqualTo(part);
        assertThat(readChunk(K, null)).isEqualTo(got);
        assertThat(store().dirtyChunks(7)).containsOnlyKeys(2);
        assertThat(store().usage().dirtyBytes()).isEqualTo(110);
        assertThat(store().usage().dirtyChunks()).isEqualTo(1);
    }

    @Test
    void writingIntoACleanChunkMakesItDirtyAsAWhole() {
        byte[] data = bytes(1000, 4);
        store().putClean(K, "e", ByteBuffer.wrap(data));
        store().write(K, 10, ByteBuffer.wrap(new byte[] {1, 2, 3}));
        byte[] expected = data.clone();
        expected[10] = 1;
        expected[11] = 2;
        expected[12] = 3;
        assertThat(readChunk(K, "other")).isEqualTo(expected);
        assertThat(store().usage().dirtyBytes()).isEqualTo(1000);
        assertThat(store().usage().totalBytes()).isEqualTo(1000);

        // A fetch that lands after the write must not overwrite local changes.
        store().putClean(K, "e", ByteBuffer.wrap(data));
        assertThat(readChunk(K, "e")).isEqualTo(expected);
    }

    @Test
    void everyWriteRaisesTheGeneration() {
        store().write(K, 0, ByteBuffer.wrap(new byte[] {1}));
        long first = store().dirtyChunks(7).get(2);
        store().write(K, 1, ByteBuffer.wrap(new byte[] {2}));
        assertThat(store().dirtyChunks(7).get(2)).isGreaterThan(first);
    }

    @Test
    void uploadedChunksBecomeCleanUnlessWrittenSince() {
        ChunkKey a = new ChunkKey(7, 0);
        ChunkKey b = new ChunkKey(7, 1);
        store().write(a, 0, ByteBuffer.wrap(new byte[] {1}));
        store().write(b, 0, ByteBuffer.wrap(new byte[] {2}));
        Map<Integer, Long> sent = store().dirtyChunks(7);
        store().write(b, 1, ByteBuffer.wrap(new byte[] {3}));

        store().markUploaded(7, null, "v1", sent);
        assertThat(store().dirtyChunks(7)).containsOnlyKeys(1);
        assertThat(readChunk(a, "v1")).containsExactly(1);
        assertThat(readChunk(a, "v0")).isNull();
        assertThat(readChunk(b, "anything")).containsExactly(2, 3);
        assertThat(store().usage().dirtyBytes()).isEqualTo(2);
    }

    @Test
    void uploadRelabelsCleanChunksOfTheBaseAndDropsOtherVersions() {
        ChunkKey c0 = new ChunkKey(7, 0);
        ChunkKey c1 = new ChunkKey(7, 1);
        ChunkKey c2 = new ChunkKey(7, 2);
        store().putClean(c0, "base", ByteBuffer.wrap(new byte[] {1}));
        store().putClean(c1, "older", ByteBuffer.wrap(new byte[] {2}));
        store().write(c2, 0, ByteBuffer.wrap(new byte[] {3}));
        store().markUploaded(7, "base", "new", store().dirtyChunks(7));
        assertThat(readChunk(c0, "new")).containsExactly(1);
        assertThat(readChunk(c1, "older")).isNull();
        assertThat(readChunk(c2, "new")).containsExactly(3);
        assertThat(store().usage().dirtyBytes()).isZero();
    }

    @Test
    void truncateDropsChunksPastTheEndAndCutsTheLast() {
        int cs = store().chunkSize();
        for (int i = 0; i < 3; i++) {
            store().putClean(new ChunkKey(9, i), "e", ByteBuffer.wrap(bytes(cs, i)));
        }
        store().truncate(9, cs + 10);
        assertThat(store().length(new ChunkKey(9, 0))).isEqualTo(cs);
        assertThat(store().length(new ChunkKey(9, 1))).isEqualTo(10);
        assertThat(store().length(new ChunkKey(9, 2))).isEqualTo(-1);
        assertThat(store().dirtyChunks(9)).containsOnlyKeys(1);
        assertThat(readChunk(new ChunkKey(9, 1), null)).isEqualTo(Arrays.copyOf(bytes(cs, 1), 10));
        assertThat(store().usage().totalBytes()).isEqualTo(cs + 10);
        assertThat(store().usage().dirtyBytes()).isEqualTo(10);

        store().truncate(9, 0);
        assertThat(store().usage().totalBytes()).isZero();
        assertThat(store().usage().dirtyBytes()).isZero();
    }

    @Test
    void dropForgetsEveryChunkOfTheFile() {
        store().putClean(new ChunkKey(5, 0), "e", ByteBuffer.wrap(new byte[100]));
        store().write(new ChunkKey(5, 1), 0, ByteBuffer.wrap(new byte[50]));
        store().putClean(new ChunkKey(6, 0), "e", ByteBuffer.wrap(new byte[7]));
        store().drop(5);
        assertThat(store().length(new ChunkKey(5, 0))).isEqualTo(-1);
        assertThat(store().length(new ChunkKey(5, 1))).isEqualTo(-1);
        assertThat(store().usage()).isEqualTo(new ChunkStore.Usage(7, 0, 1, 0));
    }

    @Test
    void aChunkReadThenReplacedWrittenOrDroppedReadsWhatItHoldsNow() {
        int size = store().chunkSize(); // a whole chunk: a file of its own where the store has files
        byte[] v1 = bytes(size, 11);
        byte[] v2 = bytes(size, 12);
        store().putClean(K, "v1", ByteBuffer.wrap(v1));
        assertThat(readChunk(K, "v1")).isEqualTo(v1);
        store().putClean(K, "v2", ByteBuffer.wrap(v2));
        assertThat(readChunk(K, "v2")).isEqualTo(v2);
        store().write(K, 10, ByteBuffer.wrap(new byte[] {1, 2, 3}));
        byte[] written = v2.clone();
        written[10] = 1;
        written[11] = 2;
        written[12] = 3;
        assertThat(readChunk(K, null)).isEqualTo(written);
        store().drop(K.fileId());
        assertThat(readChunk(K, "v1")).isNull();
        store().putClean(K, "v1", ByteBuffer.wrap(v1));
        assertThat(readChunk(K, "v1")).isEqualTo(v1);
        store().truncate(K.fileId(), (long) K.index() * size + 5);
        assertThat(readChunk(K, null)).isEqualTo(java.util.Arrays.copyOf(v1, 5));
    }
}
