package dev.bucketdrive.core.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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

    /** Gives {@code data} to a writer of {@code key} in pieces of {@code piece} bytes, then stores it. */
    private void storeInPieces(ChunkKey key, String etag, byte[] data, int piece) {
        try (ChunkStore.CleanChunkWriter writer = store().storeClean(key, etag)) {
            for (int at = 0; at < data.length; at += piece) {
                writer.append(ByteBuffer.wrap(data, at, Math.min(piece, data.length - at)));
            }
            writer.store();
        }
    }

    @Test
    void aChunkGivenInPiecesIsStoredAsAWholeOneIs() {
        int cs = store().chunkSize();
        ChunkKey whole = new ChunkKey(8, 0);
        ChunkKey last = new ChunkKey(8, 1);
        ChunkKey none = new ChunkKey(8, 2);
        byte[] full = bytes(cs, 21);
        byte[] small = bytes(1000, 22); // a short last chunk: in the row where the store keeps small ones
        storeInPieces(whole, "v1", full, 4096 + 7);
        storeInPieces(last, "v1", small, 300);
        storeInPieces(none, "v1", new byte[0], 1);
        assertThat(readChunk(whole, "v1")).isEqualTo(full);
        assertThat(readChunk(last, "v1")).isEqualTo(small);
        assertThat(readChunk(none, "v1")).isEmpty();
        assertThat(readChunk(whole, "v2")).isNull();
        assertThat(store().length(whole)).isEqualTo(cs);
        assertThat(store().usage()).isEqualTo(new ChunkStore.Usage(cs + 1000, 0, 3, 0));

        // A newer version replaces it, in pieces of any size.
        byte[] newer = bytes(cs, 23);
        storeInPieces(whole, "v2", newer, cs / 3);
        assertThat(readChunk(whole, "v2")).isEqualTo(newer);
        assertThat(readChunk(whole, "v1")).isNull();
        assertThat(store().usage().totalBytes()).isEqualTo(cs + 1000);
    }

    @Test
    void aChunkGivenInPiecesIsNothingUntilStoredAndNothingIfDropped() {
        int cs = store().chunkSize();
        byte[] data = bytes(cs, 24);
        try (ChunkStore.CleanChunkWriter writer = store().storeClean(K, "v1")) {
            writer.append(ByteBuffer.wrap(data, 0, cs / 2));
            assertThat(readChunk(K, "v1")).as("half given").isNull();
            writer.append(ByteBuffer.wrap(data, cs / 2, cs - cs / 2));
            assertThat(readChunk(K, "v1")).as("all given, not stored").isNull();
            assertThatThrownBy(() -> writer.append(ByteBuffer.wrap(new byte[1])))
                    .isInstanceOf(IllegalArgumentException.class);
        }
        assertThat(readChunk(K, "v1")).as("dropped").isNull();
        assertThat(store().usage()).isEqualTo(new ChunkStore.Usage(0, 0, 0, 0));

        // Dropped over a stored version, that version stays.
        store().putClean(K, "v0", ByteBuffer.wrap(data));
        try (ChunkStore.CleanChunkWriter writer = store().storeClean(K, "v1")) {
            writer.append(ByteBuffer.wrap(bytes(cs, 25)));
        }
        assertThat(readChunk(K, "v0")).isEqualTo(data);
        assertThat(readChunk(K, "v1")).isNull();
    }

    @Test
    void aChunkGivenInPiecesLeavesADirtyChunkAlone() {
        int cs = store().chunkSize();
        byte[] fetched = bytes(cs, 26);
        try (ChunkStore.CleanChunkWriter writer = store().storeClean(K, "v1")) {
            writer.append(ByteBuffer.wrap(fetched));
            // Written while the fetch was on its way: the local change wins.
            store().write(K, 0, ByteBuffer.wrap(new byte[] {9, 9}));
            writer.store();
        }
        assertThat(readChunk(K, null)).containsExactly(9, 9);
        assertThat(store().dirtyChunks(7)).containsOnlyKeys(2);
        assertThat(store().usage()).isEqualTo(new ChunkStore.Usage(2, 2, 1, 1));
    }

    @Test
    void twoWritersOfOneChunkStoreTheLaterOne() {
        int cs = store().chunkSize();
        byte[] a = bytes(cs, 27);
        byte[] b = bytes(cs, 28);
        try (ChunkStore.CleanChunkWriter first = store().storeClean(K, "va");
                ChunkStore.CleanChunkWriter second = store().storeClean(K, "vb")) {
            first.append(ByteBuffer.wrap(a, 0, cs / 2));
            second.append(ByteBuffer.wrap(b, 0, cs / 2));
            first.append(ByteBuffer.wrap(a, cs / 2, cs - cs / 2));
            second.append(ByteBuffer.wrap(b, cs / 2, cs - cs / 2));
            first.store();
            assertThat(readChunk(K, "va")).isEqualTo(a);
            second.store();
        }
        assertThat(readChunk(K, "vb")).isEqualTo(b);
        assertThat(readChunk(K, "va")).isNull();
        assertThat(store().usage()).isEqualTo(new ChunkStore.Usage(cs, 0, 1, 0));
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
