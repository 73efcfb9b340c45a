package dev.bucketdrive.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bucketdrive.core.local.CacheFullException;
import dev.bucketdrive.core.local.ChunkKey;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** When dirty data reaches its limit, writers wait for uploads; after a bounded wait they get ENOSPC. */
class BackpressureTest {

    private static final int CS = 4096;

    @TempDir
    Path dir;
    LocalCache cache;

    private LocalCache open(Duration wait) {
        cache = LocalCache.open(CacheOptions.defaults(dir).withChunkSize(CS).withLimits(100L * CS, 2L * CS)
                .withMinFreeBytes(0).withDirtyWait(wait), Runnable::run);
        return cache;
    }

    @AfterEach
    void close() {
        cache.close();
    }

    @Test
    void aWriterWaitsUntilAnUploadMakesRoom() throws Exception {
        open(Duration.ofMinutes(1));
        cache.chunks().write(new ChunkKey(1, 0), 0, ByteBuffer.wrap(new byte[CS]));
        cache.chunks().write(new ChunkKey(1, 1), 0, ByteBuffer.wrap(new byte[CS]));
        // Rewriting dirty bytes needs no room.
        cache.chunks().write(new ChunkKey(1, 0), 0, ByteBuffer.wrap(new byte[10]));

        CountDownLatch started = new CountDownLatch(1);
        CompletableFuture<Void> third = CompletableFuture.runAsync(() -> {
            started.countDown();
            cache.chunks().write(new ChunkKey(2, 0), 0, ByteBuffer.wrap(new byte[] {42}));
        });
        started.await();
        // It waits: nothing will finish it but an upload. (A bounded look, not a timing assertion.)
        assertThat(third).failsWithin(Duration.ofMillis(300)).withThrowableThat()
                .isInstanceOf(java.util.concurrent.TimeoutException.class);

        cache.chunks().markUploaded(1, null, "v1", cache.chunks().dirtyChunks(1));
        third.get(30, TimeUnit.SECONDS);
        ByteBuffer one = ByteBuffer.allocate(1);
        assertThat(cache.chunks().read(new ChunkKey(2, 0), null, 0, one)).isEqualTo(1);
        assertThat(one.get(0)).isEqualTo((byte) 42);
    }

    @Test
    void withNoUploadsTheWriterGetsCacheFullAndAcceptedDataStays() {
        open(Duration.ofMillis(200));
        cache.chunks().write(new ChunkKey(1, 0), 0, ByteBuffer.wrap(new byte[CS]));
        cache.chunks().write(new ChunkKey(1, 1), 0, ByteBuffer.wrap(new byte[CS]));
        assertThatThrownBy(() -> cache.chunks().write(new ChunkKey(1, 2), 0, ByteBuffer.wrap(new byte[1])))
                .isInstanceOf(CacheFullException.class).hasMessageContaining("not yet uploaded");
        assertThat(cache.chunks().dirtyChunks(1)).containsOnlyKeys(0, 1);
        assertThat(cache.chunks().length(new ChunkKey(1, 2))).isEqualTo(-1);
        assertThat(cache.chunks().usage().dirtyBytes()).isEqualTo(2L * CS);
    }

    /** Nothing that could make room (only files still open hold dirty bytes): no wait, however long allowed. */
    @Test
    void aWriterGetsCacheFullAtOnceWhenNothingCouldMakeRoom() throws Exception {
        open(Duration.ofDays(1));
        AtomicInteger looks = new AtomicInteger();
        cache.chunks().roomMadeBy(() -> {
            looks.incrementAndGet();
            return false;
        });
        cache.chunks().write(new ChunkKey(1, 0), 0, ByteBuffer.wrap(new byte[CS]));
        cache.chunks().write(new ChunkKey(1, 1), 0, ByteBuffer.wrap(new byte[CS]));
        CompletableFuture<Void> third = CompletableFuture.runAsync(() ->
                cache.chunks().write(new ChunkKey(2, 0), 0, ByteBuffer.wrap(new byte[1])));
        assertThat(third).as("a guard against a hang: the wait allowed is a day")
                .failsWithin(Duration.ofMinutes(1)).withThrowableThat().havingCause()
                .isInstanceOf(CacheFullException.class).withMessageContaining("only files still open");
        assertThat(looks.get()).as("looked more than once: a close under way gets a moment").isGreaterThan(1);
        assertThat(cache.chunks().dirtyChunks(1)).containsOnlyKeys(0, 1);
        assertThat(cache.chunks().length(new ChunkKey(2, 0))).isEqualTo(-1);
    }

    /** Something that could make room turns up within the moment given (a close under way): the writer waits for it. */
    @Test
    void aWriterWaitsWhenSomethingCouldMakeRoomSoonAfterItLooked() throws Exception {
        open(Duration.ofDays(1));
        AtomicInteger looks = new AtomicInteger();
        cache.chunks().roomMadeBy(() -> looks.incrementAndGet() > 1);
        assertAWriterPastTheLimitWaitsForAnUpload(looks, 3);
    }

    /** When the write-back cannot tell (its journal read failed), the writer waits as before rather than fail. */
    @Test
    void aWriterWaitsWhenItCannotTellWhetherAnythingCouldMakeRoom() throws Exception {
        open(Duration.ofDays(1));
        AtomicInteger looks = new AtomicInteger();
        cache.chunks().roomMadeBy(() -> {
            looks.incrementAndGet();
            throw new IllegalStateException("cache index: injected failure");
        });
        assertAWriterPastTheLimitWaitsForAnUpload(looks, 8); // 1.4 s and more: past the second a writer gives
    }

    /**
     * Fills the dirty limit and writes past it: the writer still waits once it has asked
     * {@code roomMadeBy} {@code looked} times, and goes on when an upload makes room.
     */
    private void assertAWriterPastTheLimitWaitsForAnUpload(AtomicInteger looks, int looked) throws Exception {
        cache.chunks().write(new ChunkKey(1, 0), 0, ByteBuffer.wrap(new byte[CS]));
        cache.chunks().write(new ChunkKey(1, 1), 0, ByteBuffer.wrap(new byte[CS]));
        CompletableFuture<Void> third = CompletableFuture.runAsync(() ->
                cache.chunks().write(new ChunkKey(2, 0), 0, ByteBuffer.wrap(new byte[] {42})));
        while (looks.get() < looked && !third.isDone()) {
            Thread.onSpinWait();
        }
        assertThat(third).as("still waiting").isNotDone();
        cache.chunks().markUploaded(1, null, "v1", cache.chunks().dirtyChunks(1));
        third.get(30, TimeUnit.SECONDS);
        assertThat(cache.chunks().length(new ChunkKey(2, 0))).isEqualTo(1);
    }

    @Test
    void aDeletedDirtyFileMakesRoomToo() throws Exception {
        open(Duration.ofMinutes(1));
        cache.chunks().write(new ChunkKey(1, 0), 0, ByteBuffer.wrap(new byte[CS]));
        cache.chunks().write(new ChunkKey(1, 1), 0, ByteBuffer.wrap(new byte[CS]));
        CompletableFuture<Void> next = CompletableFuture.runAsync(() ->
                cache.chunks().write(new ChunkKey(3, 0), 0, ByteBuffer.wrap(new byte[CS])));
        cache.chunks().drop(1);
        next.get(30, TimeUnit.SECONDS);
        assertThat(cache.chunks().usage().dirtyBytes()).isEqualTo(CS);
    }

    /** The chunks of a part sent while its file is written make room, until they change or their upload ends. */
    @Test
    void chunksSentAsPartsMakeRoomUntilTheyChangeOrTheirUploadEnds() {
        open(Duration.ofMillis(200));
        ChunkKey a = new ChunkKey(1, 0);
        ChunkKey b = new ChunkKey(1, 1);
        cache.chunks().write(a, 0, ByteBuffer.wrap(new byte[CS]));
        cache.chunks().write(b, 0, ByteBuffer.wrap(new byte[CS]));
        long sentA = cache.chunks().dirtyChunks(1).get(0);
        cache.chunks().write(a, 0, ByteBuffer.wrap(new byte[] {7})); // written after the part was read
        cache.chunks().sentAsPart(a, sentA);
        assertThat(cache.chunks().usage().dirtyBytes()).as("a stale generation").isEqualTo(2L * CS);

        cache.chunks().sentAsPart(a, cache.chunks().dirtyChunks(1).get(0));
        cache.chunks().sentAsPart(a, cache.chunks().dirtyChunks(1).get(0)); // once is enough
        assertThat(cache.chunks().usage().dirtyBytes()).isEqualTo(CS);
        cache.chunks().write(new ChunkKey(1, 2), 0, ByteBuffer.wrap(new byte[CS])); // no wait: there is room
        assertThat(cache.chunks().dirtyChunks(1)).as("still dirty, never evicted").containsOnlyKeys(0, 1, 2);
        ByteBuffer first = ByteBuffer.allocate(1);
        assertThat(cache.chunks().read(a, null, 0, first)).isEqualTo(1);
        assertThat(first.get(0)).isEqualTo((byte) 7);

        // Written again, it counts again (a rewrite of dirty bytes itself needs no room).
        cache.chunks().write(a, 1, ByteBuffer.wrap(new byte[] {8}));
        assertThat(cache.chunks().usage().dirtyBytes()).isEqualTo(3L * CS);
        assertThatThrownBy(() -> cache.chunks().write(new ChunkKey(1, 3), 0, ByteBuffer.wrap(new byte[1])))
                .isInstanceOf(CacheFullException.class);

        // The upload ended (taken or given up): what it sent counts again.
        cache.chunks().sentAsPart(b, cache.chunks().dirtyChunks(1).get(1));
        assertThat(cache.chunks().usage().dirtyBytes()).isEqualTo(2L * CS);
        cache.chunks().countSentParts(1);
        assertThat(cache.chunks().usage().dirtyBytes()).isEqualTo(3L * CS);
        cache.chunks().countSentParts(1); // nothing left to count
        assertThat(cache.chunks().usage().dirtyBytes()).isEqualTo(3L * CS);

        // A sent chunk that becomes clean, is cut or is dropped leaves the count exact.
        cache.chunks().sentAsPart(a, cache.chunks().dirtyChunks(1).get(0));
        cache.chunks().sentAsPart(b, cache.chunks().dirtyChunks(1).get(1));
        cache.chunks().truncate(1, 2L * CS + 100); // cuts chunk 2, which was not sent
        cache.chunks().markUploaded(1, null, "v1", java.util.Map.of(0, cache.chunks().dirtyChunks(1).get(0)));
        assertThat(cache.chunks().usage().dirtyBytes()).as("the cut chunk 2; b is still out").isEqualTo(100L);
        cache.chunks().truncate(1, CS + 10); // cuts b, sent, and drops chunk 2
        assertThat(cache.chunks().usage().dirtyBytes()).isEqualTo(10L);
        cache.chunks().sentAsPart(b, cache.chunks().dirtyChunks(1).get(1));
        cache.chunks().drop(1);
        assertThat(cache.chunks().usage().dirtyBytes()).isZero();
        assertThat(cache.chunks().usage().dirtyChunks()).isZero();
    }
}
