package dev.bucketdrive.core.vfs;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongConsumer;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** How many attribute reads run at once, in which order, and a waiter that runs its own. */
class AttributeReaderTest {

    /** Reads that hold until released, counting how many run at once. */
    private static final class HeldReads implements LongConsumer {
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicInteger running = new AtomicInteger();
        final AtomicInteger mostAtOnce = new AtomicInteger();
        final List<Long> started = new CopyOnWriteArrayList<>();
        final List<String> threads = new CopyOnWriteArrayList<>();

        @Override
        public void accept(long fileId) {
            started.add(fileId);
            threads.add(Thread.currentThread().getName());
            mostAtOnce.accumulateAndGet(running.incrementAndGet(), Math::max);
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                running.decrementAndGet();
            }
        }

        void awaitStarted(int n) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (started.size() < n && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
        }
    }

    private final HeldReads reads = new HeldReads();
    private AttributeReader reader;

    @AfterEach
    void close() {
        reads.release.countDown();
        reader.close();
    }

    private void schedule(int files) {
        for (long id = 1; id <= files; id++) {
            assertThat(reader.schedule(id)).isTrue();
        }
    }

    @Test
    void withBusyProcessorsOnlyTheFirstThreadsRunAndTheRestFollowInOrderAsTheyEnd() throws Exception {
        reader = new AttributeReader(reads, () -> false);
        schedule(3 * AttributeReader.THREADS);
        reads.awaitStarted(AttributeReader.THREADS);
        Thread.sleep(200); // time for a wrongly started ninth read to show

        assertThat(reads.started).hasSize(AttributeReader.THREADS);
        assertThat(reads.started).containsExactlyInAnyOrderElementsOf(
                LongStream.rangeClosed(1, AttributeReader.THREADS).boxed().toList());
        assertThat(reader.isPending(AttributeReader.THREADS + 1)).isTrue();

        reads.release.countDown();
        reads.awaitStarted(3 * AttributeReader.THREADS);
        assertThat(reads.started).hasSize(3 * AttributeReader.THREADS);
        assertThat(reads.mostAtOnce.get()).isEqualTo(AttributeReader.THREADS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (reader.isPending(3 * AttributeReader.THREADS) && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(reader.isPending(3 * AttributeReader.THREADS)).isFalse();
    }

    @Test
    void withRoomUpToTheMostThreadsRunAtOnce() throws Exception {
        reader = new AttributeReader(reads, () -> true);
        schedule(AttributeReader.MAX_THREADS + 5);
        reads.awaitStarted(AttributeReader.MAX_THREADS);
        Thread.sleep(200);

        assertThat(reads.started).hasSize(AttributeReader.MAX_THREADS);
        assertThat(reads.mostAtOnce.get()).isEqualTo(AttributeReader.MAX_THREADS);
        reads.release.countDown();
        reads.awaitStarted(AttributeReader.MAX_THREADS + 5);
        assertThat(reads.started).hasSize(AttributeReader.MAX_THREADS + 5);
    }

    @Test
    void aWaiterRunsAQueuedReadItselfAndItIsNotReadTwice() throws Exception {
        reader = new AttributeReader(reads, () -> false);
        schedule(AttributeReader.THREADS + 1);
        reads.awaitStarted(AttributeReader.THREADS);
        long last = AttributeReader.THREADS + 1;
        assertThat(reads.started).doesNotContain(last);

        Thread waiter = Thread.ofPlatform().start(() -> reader.await(last, Duration.ofSeconds(30)));
        reads.awaitStarted(AttributeReader.THREADS + 1);
        assertThat(reads.threads.getLast()).isEqualTo(waiter.getName());

        reads.release.countDown();
        waiter.join(10_000);
        assertThat(waiter.isAlive()).isFalse();
        assertThat(reader.isPending(last)).isFalse();
        Thread.sleep(200); // the pool thread that polls it later must not read it again
        assertThat(reads.started).filteredOn(id -> id == last).hasSize(1);
    }
}
