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
}
