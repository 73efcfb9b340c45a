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
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the listings of the directories in use fresh in the background, so changes made by other
 * clients show up within about the listing TTL without a program waiting for a LIST. A directory is
 * in use while something looked into it within the last {@link #IN_USE_FOR}; each round lists, oldest
 * use first, at most {@link #PER_ROUND} of those whose listing has aged past the TTL (the drive
 * decides that: {@code relist} does nothing for a fresh one).
 *
 * <p>It also lists ahead: when a program had to wait for a directory's listing, the subdirectories
 * whose listings are stale too are listed in the background, {@value #LIST_AHEAD_THREADS} at a time
 * and {@value #LIST_AHEAD_DEPTH} levels down, so a walk of a tree ({@code ls -lR}, {@code find}, a
 * copy) finds most of them fresh instead of waiting for one LIST per directory. At most
 * {@value #LIST_AHEAD_QUEUE} directories wait; more are left for when they are looked into.
 */
final class RemoteWatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RemoteWatcher.class);
    static final Duration IN_USE_FOR = Duration.ofMinutes(5);
    static final int PER_ROUND = 64;
    static final int LIST_AHEAD_THREADS = 4;
    static final int LIST_AHEAD_DEPTH = 2;
    static final int LIST_AHEAD_QUEUE = 256;

    private final Map<String, Long> lastUse = new ConcurrentHashMap<>();
    private final LongSupplier clock;
    private final Consumer<String> relist;
    private final Function<String, List<String>> staleSubdirectories;
    private final ScheduledExecutorService timer;
    private final ExecutorService listAhead;
    /** Directories queued or being listed ahead. */
    private final Set<String> ahead = ConcurrentHashMap.newKeySet();

    /**
     * @param every               how often a round runs
     * @param relist              lists one directory if its listing is stale (may throw; the next round retries)
     * @param staleSubdirectories the subdirectories of a directory whose listings are stale
     */
    RemoteWatcher(Duration every, LongSupplier clock, Consumer<String> relist,
                  Function<String, List<String>> staleSubdirectories) {
        this.clock = clock;
        this.relist = relist;
        this.staleSubdirectories = staleSubdirectories;
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

    /** A program waited for the listing of {@code dir}: list its stale subdirectories ahead. */
    void listedOnDemand(String dir) {
        queueSubdirectories(dir, LIST_AHEAD_DEPTH);
    }

    private void queueSubdirectories(String dir, int depth) {
        for (String sub : staleSubdirectories.apply(dir)) {
            if (ahead.size() >= LIST_AHEAD_QUEUE) {
                return;
            }
            if (!ahead.add(sub)) {
                continue;
            }
            try {
                listAhead.execute(() -> listAhead(sub, depth));
            } catch (RejectedExecutionException e) {
                ahead.remove(sub);
                return; // closing
            }
        }
    }

    private void listAhead(String dir, int depth) {
        try {
            relist.accept(dir);
            if (depth > 1) {
                queueSubdirectories(dir, depth - 1);
            }
        } catch (RuntimeException e) {
            LOG.debug("listing /{} ahead: {}", dir, e.toString());
        } finally {
            ahead.remove(dir);
        }
    }

    private void round() {
        try {
            long now = clock.getAsLong();
            lastUse.entrySet().removeIf(e -> now - e.getValue() > IN_USE_FOR.toMillis());
            List<String> dirs = lastUse.entrySet().stream()
                    .sorted(Map.Entry.comparingByValue(Comparator.reverseOrder()))
                    .limit(PER_ROUND).map(Map.Entry::getKey).toList();
            for (String dir : dirs) {
                try {
                    relist.accept(dir);
                } catch (RuntimeException e) {
                    LOG.debug("background listing of /{}: {}", dir, e.toString());
                }
            }
        } catch (RuntimeException e) {
            LOG.warn("background listing: {}", e.toString());
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
        listAhead.shutdownNow();
    }
}
