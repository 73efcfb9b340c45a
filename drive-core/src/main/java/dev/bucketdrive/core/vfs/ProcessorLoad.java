package dev.bucketdrive.core.vfs;

import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.util.concurrent.TimeUnit;

/**
 * How busy the machine's processors have been lately, as the JDK's operating-system bean tells. The
 * bean measures from one call to the next, in the whole process: so the answer is reused for calls
 * close together, and a reading over a long quiet time, or the first one, counts as unknown.
 */
final class ProcessorLoad {

    /** The share of all processors busy from which they count as having no room. */
    static final double BUSY = 0.85;
    private static final long REUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final long STALE_NANOS = TimeUnit.SECONDS.toNanos(1);

    private static final OperatingSystemMXBean OS = ManagementFactory.getOperatingSystemMXBean();
    private static long lastCall;
    private static boolean lastAnswer;

    private ProcessorLoad() {
    }

    /**
     * Whether less than {@link #BUSY} of the processors were busy since the call before; false when
     * that is unknown (the first call, one after more than a second, or a JDK that cannot tell).
     * About 50 µs a call.
     */
    static synchronized boolean hasRoom() {
        long now = System.nanoTime();
        if (lastCall != 0 && now - lastCall < REUSE_NANOS) {
            return lastAnswer;
        }
        boolean known = lastCall != 0 && now - lastCall <= STALE_NANOS;
        double load = OS instanceof com.sun.management.OperatingSystemMXBean os ? os.getCpuLoad() : -1;
        lastCall = now;
        lastAnswer = known && load >= 0 && load < BUSY;
        return lastAnswer;
    }
}
