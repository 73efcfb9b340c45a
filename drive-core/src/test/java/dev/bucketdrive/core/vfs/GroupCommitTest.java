package dev.bucketdrive.core.vfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class GroupCommitTest {

    @Test
    void aLoneItemIsStoredByItsOwnThreadAndGetsItsResult() {
        List<List<Integer>> batches = new ArrayList<>();
        GroupCommit<Integer, String> commit = new GroupCommit<>(values -> {
            batches.add(List.copyOf(values));
            return values.stream().map(v -> "r" + v).toList();
        });
        assertThat(commit.submit(1)).isEqualTo("r1");
        assertThat(commit.submit(2)).isEqualTo("r2");
        assertThat(batches).containsExactly(List.of(1), List.of(2));
    }

    /** Items that arrive while a batch is being stored go together in the next one, each with its own result. */
    @Test
    void itemsQueuedDuringAStoreGoInTheNextBatchTogether() throws Exception {
        CountDownLatch firstStoring = new CountDownLatch(1);
        CountDownLatch releaseFirst = new CountDownLatch(1);
        List<List<Integer>> batches = Collections.synchronizedList(new ArrayList<>());
        GroupCommit<Integer, Integer> commit = new GroupCommit<>(values -> {
            batches.add(List.copyOf(values));
            if (values.contains(0)) {
                firstStoring.countDown();
                await(releaseFirst);
            }
            return values.stream().map(v -> v * 10).toList();
        });
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            Future<Integer> first = pool.submit(() -> commit.submit(0));
            await(firstStoring);
            List<Future<Integer>> others = new ArrayList<>();
            for (int i = 1; i <= 5; i++) {
                int v = i;
                others.add(pool.submit(() -> commit.submit(v)));
            }
            while (commit.waiting() < 5) {
                Thread.onSpinWait(); // all five have queued their items behind the first batch
            }
            releaseFirst.countDown();
            assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo(0);
            for (int i = 0; i < 5; i++) {
                assertThat(others.get(i).get(10, TimeUnit.SECONDS)).isEqualTo((i + 1) * 10);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(batches.getFirst()).containsExactly(0);
        assertThat(batches.stream().mapToInt(List::size).sum()).isEqualTo(6);
        assertThat(batches).as("the five queued during the first went together").hasSize(2);
    }

    @Test
    void everyItemOfAFailedBatchGetsTheFailureAndTheNextBatchStartsAfresh() {
        GroupCommit<Integer, Integer> commit = new GroupCommit<>(values -> {
            if (values.contains(13)) {
                throw new IllegalStateException("disk full");
            }
            return values;
        });
        assertThatThrownBy(() -> commit.submit(13)).hasMessage("disk full");
        assertThat(commit.submit(14)).isEqualTo(14);
        GroupCommit<Integer, Integer> broken = new GroupCommit<>(values -> {
            throw new OutOfMemoryError("no room");
        });
        assertThatThrownBy(() -> broken.submit(1)).isInstanceOf(OutOfMemoryError.class);
    }

    private static void await(CountDownLatch latch) {
        try {
            assertThat(latch.await(10, TimeUnit.SECONDS)).isTrue();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
