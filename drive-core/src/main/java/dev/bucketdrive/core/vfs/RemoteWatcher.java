package dev.bucketdrive.core.vfs;

import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the listings of the directories in use fresh in the background, so changes made by other
 * clients show up within the listing TTL without a program waiting for a LIST. A directory is in use
 * while something looked into it within the last {@link #IN_USE_FOR}; each round lists, parents first,
 * up to {@link #PER_ROUND} of those whose listing will have aged past the TTL by the next round (the
 * drive decides that: {@code relist} does nothing for a younger one, and lists the subtree of one whose
 * subdirectories are mostly as old flat).
 *
 * <p>It also lists ahead: when a program had to wait for a directory's listing and most of its
 * subdirectories have stale listings too, the whole subtree is listed flat in the
 * background ({@code listSubtree}, on {@value #LIST_AHEAD_THREADS} threads), so a walk of a tree
 * ({@code ls -lR}, {@code find}, a copy) waits for a few requests of a thousand keys instead of one
 * LIST per directory. At most {@value #LIST_AHEAD_QUEUE} subtrees wait; more are left for when they
 * are looked into.
 */
final class RemoteWatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RemoteWatcher.class);
    static final Duration IN_USE_FOR = Duration.ofMinutes(5);
    static final int PER_ROUND = 64;
    static final int LIST_AHEAD_THREADS = 4;
    static final int LIST_AHEAD_QUEUE = 256;

    private final Map<String, Long> lastUse = new ConcurrentHashMap<>();
    private final LongSupplier clock;
    private final Predicate<String> relist;
    private final Predicate<String> subdirectoriesMostlyStale;
    private final Consumer<String> listSubtree;
    private final ScheduledExecutorService timer;
    private final ExecutorService listAhead;
    /** The names of the listings queued or running ahead (see {@link #runAhead}). */
    private final Set<String> ahead = ConcurrentHashMap.newKeySet();

    /**
     * @param every               how often a round runs
     * @param relist              lists one directory if its listing would be stale by the next round, and
     *                            says whether it did (may throw; the next round retries)
     * @param subdirectoriesMostlyStale whether most subdirectories of a directory have stale listings
     * @param listSubtree            lists everything below a directory
     */
    RemoteWatcher(Duration every, LongSupplier clock, Predicate<String> relist,
                  Predicate<String> subdirectoriesMostlyStale, Consumer<String> listSubtree) {
        this.clock = clock;
        this.relist = relist;
        this.subdirectoriesMostlyStale = subdirectoriesMostlyStale;
        this.listSubtree = listSubtree;
        this.timer = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("remote-watcher").daemon().factory());
        this.listAhead = Executors.newFixedThreadPool(LIST_AHEAD_THREADS,
                Thread.ofPlatform().name("list-ahead-", 0).daemon().factory());
        long periodMs = Math.max(200, every.toMillis());
        timer.scheduleWithFixedDelay(this::round, periodMs, periodMs, TimeUnit.MILLISECONDS);
    }

    /** Something looked into {@code dir}. */
    void used(String dir) {
        lastUse.put(dir, clock.getAsLong());
    }

    /** {@code dir} is gone (removed or renamed away). */
    void forget(String dir) {
        lastUse.remove(dir);
    }

    /** A program waited for the listing of {@code dir}: list its subtree ahead if most of it is stale. */
    void listedOnDemand(String dir) {
        if (subdirectoriesMostlyStale.test(dir)) {
            runAhead(dir, () -> listSubtree.accept(dir));
        }
    }

    /**
     * Runs {@code listing} on a list-ahead thread, unless one of the same {@code name} is queued or
     * running, or {@value #LIST_AHEAD_QUEUE} are.
     */
    void runAhead(String name, Runnable listing) {
        if (ahead.size() >= LIST_AHEAD_QUEUE || !ahead.add(name)) {
            return;
        }
        try {
            listAhead.execute(() -> {
                try {
                    listing.run();
                } catch (RuntimeException e) {
                    LOG.debug("listing ahead ({}): {}", name, e.toString());
                } finally {
                    ahead.remove(name);
                }
            });
        } catch (RejectedExecutionException e) {
            ahead.remove(name); // closing
        }
    }

    private void round() {
        try {
            long now = clock.getAsLong();
            lastUse.entrySet().removeIf(e -> now - e.getValue() > IN_USE_FOR.toMillis());
            // Parents first: a parent whose subtree is listed flat leaves its subdirectories fresh,
            // and relisting a fresh one makes no request and does not count.
            List<String> dirs = lastUse.keySet().stream().sorted(Comparator.comparingInt(String::length)).toList();
            int listed = 0;
            for (String dir : dirs) {
                if (listed >= PER_ROUND) {
                    break;
                }
                try {
                    if (relist.test(dir)) {
                        listed++;
                    }
                } catch (RuntimeException e) {
                    listed++;
                    LOG.debug("background listing of /{}: {}", dir, e.toString());
                }
            }
        } catch (RuntimeException e) {
            LOG.warn("background listing: {}", e.toString());
        }
    }

    @Override
    public void close() {
        Pools.stop("background listings", timer, listAhead);
    }
}
