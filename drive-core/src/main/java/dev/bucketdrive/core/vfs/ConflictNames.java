package dev.bucketdrive.core.vfs;

import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/** Names of conflict copies: {@code name (conflict <host> <yyyy-mm-dd hhmmss>).ext}. */
final class ConflictNames {

    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd HHmmss");

    private ConflictNames() {
    }

    /** The conflict copy's name for {@code name}; {@code attempt} > 1 adds a counter when the first is taken. */
    static String of(String name, String host, Instant when, ZoneId zone, int attempt) {
        String safeHost = host.replaceAll("[/\\\\:*?\"<>|\\p{Cntrl}]", "_");
        String label = " (conflict " + safeHost + " " + STAMP.format(when.atZone(zone))
                + (attempt > 1 ? " " + attempt : "") + ")";
        return CaseCollisions.withSuffix(name, label);
    }
}
