package dev.bucketdrive.core.vfs;

import static dev.bucketdrive.core.store.InstrumentedObjectStore.Op.ABORT_MULTIPART;
import static dev.bucketdrive.core.store.InstrumentedObjectStore.Op.UPLOAD_PART;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bucketdrive.core.store.InMemoryObjectStore;
import dev.bucketdrive.core.store.InstrumentedObjectStore;
import dev.bucketdrive.core.store.PutOptions;
import dev.bucketdrive.core.store.StoreException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The streaming of one file's parts while it is written, against the in-memory store. */
class PartStreamsTest {

    private static final int CHUNK = 1024;
    private static final long PART = 2 * CHUNK;
    private static final long FILE = 1;

    private final InMemoryObjectStore bucket = new InMemoryObjectStore();
    private final InstrumentedObjectStore store = new InstrumentedObjectStore(bucket);
    private final ExecutorService senders = Executors.newFixedThreadPool(2);
    private final ExecutorService parts = Executors.newFixedThreadPool(PartStreams.PARTS_AT_ONCE);
    private final WrittenFile file = new WrittenFile();

    @AfterEach
    void stop() {
        senders.shutdownNow();
        parts.shutdownNow();
    }

    /** A file open for writing whose first bytes up to {@link #writeTo} are dirty in the cache. */
    private static final class WrittenFile implements PartStreams.Source {
        private volatile long size;
        private final Map<Integer, Long> dirty = new ConcurrentHashMap<>();

        void writeTo(long end) {
            for (int index = 0; (long) index * CHUNK < end; index++) {
                dirty.put(index, 1L);
            }
            size = end;
        }

        @Override
        public PartStreams.Target target(long fileId) {
            return new PartStreams.Target("big.bin", null, size, PutOptions.DEFAULT);
        }

        @Override
        public Map<Integer, Long> dirtyChunks(long fileId) {
            return Map.copyOf(dirty);
        }

        @Override
        public void content(long fileId, long start, byte[] into) {
            Arrays.fill(into, (byte) (start / PART));
        }

        @Override
        public void sent(long fileId, Map<Integer, Long> generations) {
        }

        @Override
        public void ended(long fileId) {
        }
    }

    private PartStreams streams(BooleanSupplier roomForMoreParts) {
        return new PartStreams(store, file, CHUNK, PART, senders, parts, roomForMoreParts,
                new BufferPool((int) PART, PartStreams.PARTS_AT_ONCE));
    }

    /** A stream of the file written up to {@code end} in one write. */
    private PartStreams writtenTo(long end, BooleanSupplier roomForMoreParts) {
        PartStreams streams = streams(roomForMoreParts);
        file.writeTo(end);
        streams.written(FILE, end, 0);
        return streams;
    }

    /** The file's stream, taken as its upload after the close takes it. */
    private static PartStreams.Stream take(PartStreams streams) {
        return streams.take(FILE, "big.bin", null, PART);
    }

    private void awaitCalls(InstrumentedObjectStore.Op op, long atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (store.calls(op) < atLeast && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(store.calls(op)).as("%s calls", op).isGreaterThanOrEqualTo(atLeast);
    }

    @Test
    void partsGoSeveralAtOnceWhileTheProcessorsHaveRoom() throws Exception {
        store.latency(Duration.ofMillis(300));
        PartStreams streams = writtenTo(8 * PART, () -> true);
        awaitCalls(UPLOAD_PART, 8);
        PartStreams.Stream stream = take(streams);
        assertThat(stream.sent).hasSize(8);
        assertThat(store.mostAtOnce(UPLOAD_PART)).isEqualTo(PartStreams.PARTS_AT_ONCE);
    }

    @Test
    void partsGoOneAtATimeWhileTheProcessorsAreBusy() throws Exception {
        store.latency(Duration.ofMillis(20));
        AtomicLong asked = new AtomicLong();
        PartStreams streams = writtenTo(8 * PART, () -> {
            asked.incrementAndGet();
            return false;
        });
        awaitCalls(UPLOAD_PART, 8);
        PartStreams.Stream stream = take(streams);
        assertThat(stream.sent).hasSize(8);
        assertThat(store.mostAtOnce(UPLOAD_PART)).isEqualTo(1);
        assertThat(asked.get()).as("asked only with a part on its way").isPositive().isLessThanOrEqualTo(8);
    }

    @Test
    void thePartsWrittenWhileOthersAreOnTheirWayFollowWithoutANewWrite() throws Exception {
        store.latency(Duration.ofMillis(200));
        PartStreams streams = writtenTo(2 * PART, () -> true);
        awaitCalls(UPLOAD_PART, 1);
        file.writeTo(6 * PART); // written while the first parts are on their way; no call of written
        awaitCalls(UPLOAD_PART, 6);
        assertThat(take(streams).sent).hasSize(6);
    }

    @Test
    void takingTheStreamWaitsForThePartsOnTheirWayAndStartsNoMore() throws Exception {
        store.latency(Duration.ofMillis(300));
        PartStreams streams = writtenTo(8 * PART, () -> true);
        awaitCalls(UPLOAD_PART, 1);
        PartStreams.Stream stream = take(streams);
        assertThat(store.running(UPLOAD_PART)).isZero();
        long started = store.calls(UPLOAD_PART);
        assertThat(stream.sent).hasSize((int) started);
        Thread.sleep(500);
        assertThat(store.calls(UPLOAD_PART)).as("none started after the take").isEqualTo(started);
    }

    @Test
    void aPartThatFailsGivesTheStreamUpOnceTheOthersAreBack() throws Exception {
        store.latency(Duration.ofMillis(300));
        store.beforeNext(UPLOAD_PART, () -> { // the first part fails once another is on its way
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (store.running(UPLOAD_PART) < 2 && System.nanoTime() < deadline) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
            }
            throw new StoreException(StoreException.Kind.TRANSIENT, "injected");
        });
        AtomicLong runningAtAbort = new AtomicLong(-1);
        store.beforeNext(ABORT_MULTIPART, () -> runningAtAbort.set(store.running(UPLOAD_PART)));
        PartStreams streams = writtenTo(4 * PART, () -> true);
        awaitCalls(ABORT_MULTIPART, 1);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (bucket.uploadsInProgress() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10); // the abort waits out the store's latency too
        }
        assertThat(bucket.uploadsInProgress()).isZero();
        assertThat(runningAtAbort.get()).as("parts on their way when the upload was aborted").isZero();
        assertThat(store.calls(UPLOAD_PART)).as("parts started").isBetween(2L, 4L);
        assertThat(take(streams)).isNull();
    }
}
