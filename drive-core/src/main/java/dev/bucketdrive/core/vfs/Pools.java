package dev.bucketdrive.core.vfs;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The end of the drive's background threads at its close. A task still running after the close could
 * touch the bucket (an upload created and never aborted) or the cache, which its owner closes next;
 * a cache reopened on the same directory could even see a file of the old one's moved into place.
 */
final class Pools {

    private static final Logger LOG = LoggerFactory.getLogger(Pools.class);
    /** How long a close waits for interrupted tasks to end: a request's round trip and its local writes. */
    static final Duration AT_CLOSE = Duration.ofSeconds(10);

    private Pools() {
    }

    /**
     * Interrupts what {@code pools} run, starts nothing new, and waits up to {@link #AT_CLOSE} for all
     * of them to end; logs if they did not. An interrupt of the caller is kept for after the wait.
     *
     * @param what the work they do, for the log
     */
    static void stop(String what, ExecutorService... pools) {
        for (ExecutorService pool : pools) {
            pool.shutdownNow();
        }
        boolean interrupted = Thread.interrupted();
        long deadline = System.nanoTime() + AT_CLOSE.toNanos();
        try {
            for (ExecutorService pool : pools) {
                if (!pool.awaitTermination(deadline - System.nanoTime(), TimeUnit.NANOSECONDS)) {
                    LOG.warn("{} still running {} s after the close", what, AT_CLOSE.toSeconds());
                    return;
                }
            }
        } catch (InterruptedException e) {
            interrupted = true;
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
