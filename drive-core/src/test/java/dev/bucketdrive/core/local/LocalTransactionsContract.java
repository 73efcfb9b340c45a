package dev.bucketdrive.core.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.time.Instant;
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

    /** A chunk too big to keep in its row lives in a file, replaced before the transaction: never read as the old version. */
    @Test
    void aFailedReplacementOfACleanChunkNeverServesItsBytesAsTheOldVersion() {
        Entry e = index().upsert(file("big.bin", 40_000));
        ChunkKey key = new ChunkKey(e.id(), 0);
        byte[] v1 = new byte[40_000];
        byte[] v2 = new byte[40_000];
        java.util.Arrays.fill(v1, (byte) 1);
        java.util.Arrays.fill(v2, (byte) 2);
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
