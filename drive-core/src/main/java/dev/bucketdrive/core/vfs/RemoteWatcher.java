package dev.bucketdrive.core.vfs;

import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the listings of the directories in use fresh in the background, so changes made by other
 * clients show up within about the listing TTL without a program waiting for a LIST. A directory is
 * in use while something looked into it within the last {@link #IN_USE_FOR}; each round lists, oldest
 * use first, at most {@link #PER_ROUND} of those whose listing has aged past the TTL (the drive
 * decides that: {@code relist} does nothing for a fresh one).
 */
final class RemoteWatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RemoteWatcher.class);
    static final Duration IN_USE_FOR = Duration.ofMinutes(5);
    static final int PER_ROUND = 64;

    private final Map<String, Long> lastUse = new ConcurrentHashMap<>();
    private final LongSupplier clock;
    private final Consumer<String> relist;
    private final ScheduledExecutorService timer;

    /**
     * @param every  how often a round runs
     * @param relist lists one directory if its listing is stale (may throw; the next round retries)
     */
    RemoteWatcher(Duration every, LongSupplier clock, Consumer<String> relist) {
        this.clock = clock;
        this.relist = relist;
        this.timer = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("remote-watcher").daemon().factory());
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
    }
}
