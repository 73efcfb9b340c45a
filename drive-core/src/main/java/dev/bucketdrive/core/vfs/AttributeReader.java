package dev.bucketdrive.core.vfs;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads, in the background, the POSIX attributes of files a listing brought in: LIST returns sizes
 * and ETags but not the object metadata that holds mode, owner and mtime, so each new or changed
 * object needs a HEAD. The reads start as soon as the listing is merged, in the order they were
 * asked for: {@link #THREADS} at a time, and up to {@link #MAX_THREADS} while the processors have
 * room ({@code roomForMore}). Each read is mostly a wait for the bucket's answer, so on a link with a
 * long round trip more of them at once go that much faster; when the processors are busy (the
 * bucket on the same machine) more would only share them. A caller that needs one of them
 * ({@link #await}) runs it itself when it has not started yet. At most {@link #MAX_PENDING} reads wait
 * at once; files beyond that keep the listing's attributes until they are opened and revalidated.
 */
final class AttributeReader implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AttributeReader.class);
    static final int THREADS = 8;
    static final int MAX_THREADS = 32;
    static final int MAX_PENDING = 100_000;
    private static final long IDLE_SECONDS = 30;

    private final ConcurrentHashMap<Long, Read> pending = new ConcurrentHashMap<>();
    /** The reads not started by a pool thread yet, oldest first (one run by its waiter stays until polled). */
    private final ConcurrentLinkedQueue<Read> queued = new ConcurrentLinkedQueue<>();
    private final AtomicInteger running = new AtomicInteger();
    private final LongConsumer read;
    private final BooleanSupplier roomForMore;
    /** Threads left idle for {@link #IDLE_SECONDS} end: most of the time no listing brings anything in. */
    private final ThreadPoolExecutor pool = new ThreadPoolExecutor(MAX_THREADS, MAX_THREADS,
            IDLE_SECONDS, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
            Thread.ofPlatform().name("attribute-read-", 0).daemon().factory());

    /**
     * @param read        HEADs one file by id and applies what it finds (may throw; the file keeps its attributes)
     * @param roomForMore whether a read beyond the first {@link #THREADS} may start now
     */
    AttributeReader(LongConsumer read, BooleanSupplier roomForMore) {
        this.read = read;
        this.roomForMore = roomForMore;
        pool.allowCoreThreadTimeOut(true);
    }

    private final class Read extends FutureTask<Void> {
        private final long fileId;

        Read(long fileId) {
            super(() -> read.accept(fileId), null);
            this.fileId = fileId;
        }

        // Out of the pending map before the waiters are released: one that returns from await must
        // not still see the read as pending (FutureTask calls done() only after waking them).
        @Override
        protected void set(Void v) {
            pending.remove(fileId, this);
            super.set(v);
        }

        @Override
        protected void setException(Throwable t) {
            pending.remove(fileId, this);
            super.setException(t);
        }

        @Override
        protected void done() {
            pending.remove(fileId, this);
        }
    }

    /** Queues a read of the file's attributes; returns false when too many wait already. */
    boolean schedule(long fileId) {
        if (pending.size() >= MAX_PENDING) {
            return false;
        }
        Read r = new Read(fileId);
        if (pending.putIfAbsent(fileId, r) == null) {
            queued.add(r);
            startWhatMay();
        }
        return true;
    }

    /**
     * Starts queued reads while fewer than {@link #THREADS} run, or fewer than {@link #MAX_THREADS}
     * and the processors have room. Called when a read is queued and when one ends: a read left
     * queued for want of room starts when one of those running ends.
     */
    private void startWhatMay() {
        while (!queued.isEmpty()) {
            int now = running.get();
            if (now >= MAX_THREADS || now >= THREADS && !roomForMore.getAsBoolean()) {
                return;
            }
            if (!running.compareAndSet(now, now + 1)) {
                continue;
            }
            Read next = queued.poll();
            if (next == null) {
                running.decrementAndGet(); // another caller took the last one
                continue;
            }
            try {
                pool.execute(() -> {
                    try {
                        next.run(); // does nothing when its waiter ran it already
                    } finally {
                        running.decrementAndGet();
                        startWhatMay();
                    }
                });
            } catch (RejectedExecutionException closed) {
                running.decrementAndGet();
                return;
            }
        }
    }

    /** Whether the file's attributes are still to be read. */
    boolean isPending(long fileId) {
        return pending.containsKey(fileId);
    }

    /** Waits (at most {@code timeout}) for the file's attributes, reading them here if no thread has started. */
    void await(long fileId, Duration timeout) {
        Read r = pending.get(fileId);
        if (r == null) {
            return;
        }
        r.run(); // does nothing when a pool thread runs or ran it
        try {
            r.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.debug("attributes of file {} not read: {}", fileId, e.toString());
        }
    }

    @Override
    public void close() {
        Pools.stop("attribute reads", pool);
    }
}
