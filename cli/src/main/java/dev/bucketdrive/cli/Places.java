package dev.bucketdrive.cli;

import java.nio.file.Path;

/** Where BucketDrive keeps its files: the XDG directories on Linux, %LOCALAPPDATA% on Windows. */
final class Places {

    private Places() {
    }

    static Path cache() {
        return base("XDG_CACHE_HOME", ".cache").resolve("bucketdrive");
    }

    static Path state() {
        return base("XDG_STATE_HOME", ".local/state").resolve("bucketdrive");
    }

    static Path data() {
        return base("XDG_DATA_HOME", ".local/share").resolve("bucketdrive");
    }

    private static Path base(String xdg, String fallback) {
        String local = System.getenv("LOCALAPPDATA");
        if (local != null && !local.isBlank()) {
            return Path.of(local);
        }
        String v = System.getenv(xdg);
        if (v != null && !v.isBlank()) {
            return Path.of(v);
        }
        return Path.of(System.getProperty("user.home")).resolve(fallback);
    }
}
