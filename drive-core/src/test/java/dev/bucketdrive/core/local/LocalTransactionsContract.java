package dev.bucketdrive.core.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The contract of {@link LocalTransactions} over the index and the journal it groups (and a clean
 * chunk stored with the entry of its version), run by a subclass per implementation with all empty.
 */
public abstract class LocalTransactionsContract {

    protected abstract LocalTransactions transactions();

    protected abstract MetadataIndex index();

    protected abstract UploadJournal journal();

    protected abstract ChunkStore chunks();

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    private Entry file(String path, long size) {
        return new Entry(0, path, Entry.Type.FILE, size, 1, 0100644, 0, 0, null, 0);
    }

    @Test
    void changesThatReturnAllHold() {
        Entry made = transactions().inOne(() -> {
            Entry e = index().upsert(file("a.txt", 0));
            journal().holdUpload(e.id(), "a.txt", null, T0.plusSeconds(3600));
            return e;
        });
        PendingOp op = transactions().inOne(() -> {
            index().upsert(file("a.txt", 5));
            return journal().scheduleUpload(made.id(), "a.txt", null, T0);
        });
        assertThat(index().lookup("a.txt").orElseThrow().size()).isEqualTo(5);
        assertThat(index().byId(made.id()).orElseThrow().path()).isEqualTo("a.txt");
        assertThat(journal().uploadOf(made.id())).contains(op);
        assertThat(journal().due(T0, 10)).containsExactly(op);
    }

    @Test
    void changesThatThrowLeaveNothingAndTheIndexForgetsWhatItSawOfThem() {
        long[] id = new long[1];
        assertThat(index().children("")).isEmpty();
        assertThatThrownBy(() -> transactions().inOne(() -> {
            Entry e = index().upsert(file("gone.txt", 3));
            id[0] = e.id();
            assertThat(index().lookup("gone.txt")).contains(e); // inside, the change shows
            assertThat(index().children("")).containsExactly(e);
            journal().holdUpload(e.id(), "gone.txt", null, T0);
            throw new IllegalStateException("disk full");
        })).hasMessage("disk full");
        assertThat(index().lookup("gone.txt")).isEmpty();
        assertThat(index().children("")).isEmpty();
        assertThat(index().byId(id[0])).isEmpty();
        assertThat(journal().uploadOf(id[0])).isEmpty();
        assertThat(journal().all()).isEmpty();
    }

    @Test
    void aCleanChunkStoredWithTheEntryOfItsVersionHoldsOnlyWithIt() {
        Entry e = index().upsert(file("c.txt", 3));
        ChunkKey key = new ChunkKey(e.id(), 0);
        assertThatThrownBy(() -> chunks().putClean(key, "v1", ByteBuffer.wrap(new byte[] {1, 2, 3}), () -> {
            index().upsert(e.withRemote("v1", 3));
            throw new IllegalStateException("disk full");
        })).hasMessage("disk full");
        assertThat(chunks().read(key, "v1", 0, ByteBuffer.allocate(3))).as("no chunk").isEqualTo(-1);
        assertThat(index().byId(e.id()).orElseThrow().etag()).as("no new version").isNull();

        Entry stored = chunks().putClean(key, "v1", ByteBuffer.wrap(new byte[] {1, 2, 3}),
                () -> index().upsert(e.withRemote("v1", 3)));
        assertThat(stored.etag()).isEqualTo("v1");
        assertThat(index().byId(e.id()).orElseThrow().etag()).isEqualTo("v1");
        ByteBuffer read = ByteBuffer.allocate(3);
        assertThat(chunks().read(key, "v1", 0, read)).isEqualTo(3);
        assertThat(read.array()).containsExactly(1, 2, 3);
    }

    @Test
    void cleanChunksStoredTogetherHoldOrFailTogetherAndADirtyOneIsLeftAsItIs() {
        Entry a = index().upsert(file("a.txt", 3));
        Entry b = index().upsert(file("b.bin", 40_000)); // too big for its row: a file of its own
        Entry c = index().upsert(file("c.txt", 2));
        chunks().write(new ChunkKey(c.id(), 0), 0, ByteBuffer.wrap(new byte[] {7, 7}));
        byte[] big = new byte[40_000];
        Arrays.fill(big, (byte) 5);
        List<ChunkStore.CleanChunk> batch = List.of(
                new ChunkStore.CleanChunk(new ChunkKey(a.id(), 0), "va", ByteBuffer.wrap(new byte[] {1, 2, 3})),
                new ChunkStore.CleanChunk(new ChunkKey(b.id(), 0), "vb", ByteBuffer.wrap(big)),
                new ChunkStore.CleanChunk(new ChunkKey(c.id(), 0), "vc", ByteBuffer.wrap(new byte[] {9, 9})));

        assertThatThrownBy(() -> chunks().putClean(batch, () -> {
            index().upsert(a.withRemote("va", 3));
            index().upsert(b.withRemote("vb", 40_000));
            throw new IllegalStateException("disk full");
        })).hasMessage("disk full");
        assertThat(chunks().read(new ChunkKey(a.id(), 0), "va", 0, ByteBuffer.allocate(3))).isEqualTo(-1);
        assertThat(chunks().read(new ChunkKey(b.id(), 0), "vb", 0, ByteBuffer.allocate(big.length))).isEqualTo(-1);
        assertThat(index().byId(a.id()).orElseThrow().etag()).isNull();
        assertThat(index().byId(b.id()).orElseThrow().etag()).isNull();

        int upserts = chunks().putClean(batch, () -> {
            index().upsert(a.withRemote("va", 3));
            index().upsert(b.withRemote("vb", 40_000));
            return 2;
        });
        assertThat(upserts).isEqualTo(2);
        assertThat(index().byId(a.id()).orElseThrow().etag()).isEqualTo("va");
        assertThat(index().byId(b.id()).orElseThrow().etag()).isEqualTo("vb");
        ByteBuffer readA = ByteBuffer.allocate(3);
        assertThat(chunks().read(new ChunkKey(a.id(), 0), "va", 0, readA)).isEqualTo(3);
        assertThat(readA.array()).containsExactly(1, 2, 3);
        ByteBuffer readB = ByteBuffer.allocate(big.length);
        assertThat(chunks().read(new ChunkKey(b.id(), 0), "vb", 0, readB)).isEqualTo(big.length);
        assertThat(readB.array()).isEqualTo(big);
        ByteBuffer readC = ByteBuffer.allocate(2);
        assertThat(chunks().read(new ChunkKey(c.id(), 0), "vc", 0, readC)).as("still the dirty bytes").isEqualTo(2);
        assertThat(readC.array()).containsExactly(7, 7);
        assertThat(chunks().dirtyChunks(c.id())).containsOnlyKeys(0);
    }

    @Test
    void noCleanChunksStillMakeOneTransactionAndOneKeyTwiceIsRefused() {
        assertThatThrownBy(() -> chunks().putClean(List.of(), () -> {
            index().upsert(file("alone.txt", 1));
            throw new IllegalStateException("disk full");
        })).hasMessage("disk full");
        assertThat(index().lookup("alone.txt")).isEmpty();

        Entry e = index().upsert(file("twice.txt", 1));
        ChunkKey key = new ChunkKey(e.id(), 0);
        assertThatThrownBy(() -> chunks().putClean(List.of(
                new ChunkStore.CleanChunk(key, "v1", ByteBuffer.wrap(new byte[] {1})),
                new ChunkStore.CleanChunk(key, "v2", ByteBuffer.wrap(new byte[] {2}))), () -> null))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(chunks().read(key, "v1", 0, ByteBuffer.allocate(1))).isEqualTo(-1);
        assertThat(chunks().read(key, "v2", 0, ByteBuffer.allocate(1))).isEqualTo(-1);
    }

    /** A chunk too big to keep in its row lives in a file, replaced before the transaction: never read as the old version. */
    @Test
    void aFailedReplacementOfACleanChunkNeverServesItsBytesAsTheOldVersion() {
        Entry e = index().upsert(file("big.bin", 40_000));
        ChunkKey key = new ChunkKey(e.id(), 0);
        byte[] v1 = new byte[40_000];
        byte[] v2 = new byte[40_000];
        Arrays.fill(v1, (byte) 1);
        Arrays.fill(v2, (byte) 2);
        chunks().putClean(key, "v1", ByteBuffer.wrap(v1));
        assertThatThrownBy(() -> chunks().putClean(key, "v2", ByteBuffer.wrap(v2), () -> {
            throw new IllegalStateException("disk full");
        })).hasMessage("disk full");
        assertThat(chunks().read(key, "v2", 0, ByteBuffer.allocate(v2.length))).isEqualTo(-1);
        ByteBuffer asV1 = ByteBuffer.allocate(v1.length);
        int n = chunks().read(key, "v1", 0, asV1);
        if (n >= 0) {
            assertThat(asV1.array()).as("only the bytes of v1 as v1").isEqualTo(v1);
        }
    }

    @Test
    void anInnerTransactionJoinsItsOuterAndGoesWithIt() {
        assertThatThrownBy(() -> transactions().inOne(() -> {
            transactions().inOne(() -> index().upsert(file("inner.txt", 1)));
            throw new IllegalStateException("outer fails");
        })).hasMessage("outer fails");
        assertThat(index().lookup("inner.txt")).isEmpty();
        Entry kept = transactions().inOne(() -> transactions().inOne(() -> index().upsert(file("kept.txt", 1))));
        assertThat(index().lookup("kept.txt")).contains(kept);
    }
}
