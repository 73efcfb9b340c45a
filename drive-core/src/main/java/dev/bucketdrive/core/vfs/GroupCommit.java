package dev.bucketdrive.core.vfs;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * Stores what several threads hand in as one batch: a thread queues its item and takes the lock;
 * whoever holds it stores every item queued by then, so items that arrive while a batch is being
 * stored go together in the next one (one lock hold and one commit for all of them). A thread
 * returns once its own item is stored, with what the batch gave for it, or with the batch's failure.
 *
 * @param <T> what is handed in
 * @param <R> what storing gives back for each item
 */
final class GroupCommit<T, R> {

    private final ReentrantLock lock = new ReentrantLock();
    private final ConcurrentLinkedQueue<Item<T, R>> queued = new ConcurrentLinkedQueue<>();
    private final Function<List<T>, List<R>> storeAll;

    /** @param storeAll stores a batch and returns a result per item, in the batch's order */
    GroupCommit(Function<List<T>, List<R>> storeAll) {
        this.storeAll = storeAll;
    }

    /** Fields written and read under {@link #lock}. */
    private static final class Item<T, R> {
        final T value;
        boolean stored;
        R result;
        Throwable failure; // a RuntimeException or an Error

        Item(T value) {
            this.value = value;
        }
    }

    /** Stores {@code value}, alone or with others; rethrows the failure of the batch it went in. */
    R submit(T value) {
        Item<T, R> mine = new Item<>(value);
        queued.add(mine);
        lock.lock();
        try {
            if (!mine.stored) {
                storeQueued();
            }
            if (mine.failure instanceof RuntimeException e) {
                throw e;
            }
            if (mine.failure instanceof Error e) {
                throw e;
            }
            return mine.result;
        } finally {
            lock.unlock();
        }
    }

    /** Threads waiting for the batch being stored to finish, their items queued (for tests). */
    int waiting() {
        return lock.getQueueLength();
    }

    /** Under the lock: takes every queued item (its own among them) and stores them together. */
    private void storeQueued() {
        List<Item<T, R>> batch = new ArrayList<>();
        for (Item<T, R> i; (i = queued.poll()) != null; ) {
            batch.add(i);
        }
        List<T> values = new ArrayList<>(batch.size());
        batch.forEach(i -> values.add(i.value));
        try {
            List<R> results = storeAll.apply(values);
            for (int k = 0; k < batch.size(); k++) {
                batch.get(k).result = results.get(k);
            }
        } catch (RuntimeException | Error e) {
            batch.forEach(i -> i.failure = e);
        } finally {
            batch.forEach(i -> i.stored = true);
        }
    }
}
