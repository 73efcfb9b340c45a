package dev.bucketdrive.cli;

import dev.bucketdrive.core.store.StoreException;
import dev.bucketdrive.s3.S3ObjectStore;
import dev.bucketdrive.s3.S3Options;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.Callable;

/** {@code bucketdrive mount s3://BUCKET[/PREFIX] MOUNTPOINT [options]}: runs in the foreground. */
@Command(name = "mount", mixinStandardHelpOptions = true,
        description = "Mounts a bucket (or a prefix of it) and serves it until unmounted or interrupted.")
final class MountCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "s3://BUCKET[/PREFIX]")
    String location;

    @Parameters(index = "1", paramLabel = "MOUNTPOINT", description = "A directory (Linux), or a drive letter X: (Windows).")
    Path mountPoint;

    @Option(names = "--endpoint", paramLabel = "URL", description = "An S3-compatible server (default: AWS).")
    URI endpoint;

    @Option(names = "--region", description = "The region (default: the SDK's chain; us-east-1 with --endpoint).")
    String region;

    @Option(names = "--profile", description = "A profile of the shared AWS config and credentials files.")
    String profile;

    @Option(names = "--path-style", description = "Path-style requests (http://host/bucket/key), for most local servers.")
    boolean pathStyle;

    @Option(names = "--insecure-tls", description = "Do not check the server's TLS certificate (a local test server only).")
    boolean insecureTls;

    @Option(names = "--cache-dir", paramLabel = "DIR", description = "Where the cache lives (default: under ~/.cache/bucketdrive).")
    Path cacheDir;

    @Option(names = "--cache-size", paramLabel = "SIZE", defaultValue = "10G",
            description = "Most bytes the cache keeps (default ${DEFAULT-VALUE}); half may wait for upload.")
    String cacheSize;

    @Option(names = "--read-only", description = "Refuse every change.")
    boolean readOnly;

    @Option(names = "--network-drive", description = "Windows: show the drive as a network drive.")
    boolean networkDrive;

    @Option(names = "--uid", description = "Owner shown for objects without POSIX metadata (default: you).")
    Integer uid;

    @Option(names = "--gid", description = "Group shown for objects without POSIX metadata (default: yours).")
    Integer gid;

    @Option(names = "--umask", defaultValue = "022", description = "Permissions masked from 0666/0777 for objects without metadata (default ${DEFAULT-VALUE}).")
    String umask;

    @Option(names = "--write-back-delay", paramLabel = "DURATION", defaultValue = "1s",
            description = "How long a closed file waits before it uploads (rewrites within it coalesce);"
                    + " uploads also wait for a pause in writing, 250 ms without a write (default ${DEFAULT-VALUE}).")
    String writeBackDelay;

    @Option(names = "--write-back-max-delay", paramLabel = "DURATION", defaultValue = "30s",
            description = "The longest a closed file waits for a pause in writing (default ${DEFAULT-VALUE}).")
    String writeBackMaxDelay;

    @Option(names = "--listing-ttl", paramLabel = "DURATION", defaultValue = "10s",
            description = "How long a directory listing is trusted before the bucket is asked again (default ${DEFAULT-VALUE}).")
    String listingTtl;

    @Override
    public Integer call() {
        Location loc = Location.parse(location);
        S3Options.Builder builder = S3Options.builder(loc.bucket()).endpoint(endpoint).region(region).profile(profile)
                .pathStyle(pathStyle).insecureTls(insecureTls);
        S3Options options;
        try {
            options = builder.build();
        } catch (IllegalArgumentException e) {
            throw new Main.UserError(e.getMessage());
        }
        checkBucket(options);
        S3ObjectStore store = S3ObjectStore.create(options);
        Path cache = cacheDir != null ? cacheDir : Places.cache().resolve(cacheName(loc, endpoint));
        int[] ids = currentUser();
        MountSession.Settings settings = new MountSession.Settings(loc.bucket(), loc.prefix(), mountPoint, cache,
                Values.size(cacheSize), readOnly, networkDrive, uid != null ? uid : ids[0], gid != null ? gid : ids[1],
                parseUmask(umask), Values.duration(writeBackDelay), Values.duration(writeBackMaxDelay),
                Values.duration(listingTtl));
        return MountSession.run(store, settings, System.out);
    }

    /** Fails fast (well within 10 s) with one clear line: bucket missing, credentials wrong, endpoint down. */
    static void checkBucket(S3Options options) {
        S3Options quick = options.toBuilder().maxAttempts(2).connectTimeout(Duration.ofSeconds(3))
                .attemptTimeout(Duration.ofSeconds(3)).initialBackoff(Duration.ofMillis(200)).build();
        try (S3ObjectStore probe = S3ObjectStore.create(quick)) {
            probe.checkBucket();
        } catch (StoreException e) {
            String where = options.endpoint() == null ? "AWS S3" : options.endpoint().toString();
            throw new Main.UserError(switch (e.kind()) {
                case BUCKET_NOT_FOUND, NOT_FOUND -> "the bucket " + options.bucket() + " does not exist at " + where;
                case ACCESS_DENIED -> "access to the bucket " + options.bucket() + " was denied: check the credentials ("
                        + e.getMessage() + ")";
                case TRANSIENT, UNAVAILABLE, THROTTLED -> "cannot reach " + where + ": " + e.getMessage();
                default -> "the bucket " + options.bucket() + " cannot be used: " + e.getMessage();
            });
        } catch (RuntimeException e) {
            throw new Main.UserError("cannot connect to the bucket " + options.bucket() + ": " + e.getMessage());
        }
    }

    static int parseUmask(String text) {
        try {
            int v = Integer.parseInt(text, 8);
            if (v < 0 || v > 0777) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new Main.UserError("not an octal umask: " + text);
        }
    }

    static String cacheName(Location loc, URI endpoint) {
        String id = (endpoint == null ? "aws" : endpoint.toString()) + "|" + loc.bucket() + "|" + loc.prefix();
        return loc.bucket() + "-" + HexFormat.of().toHexDigits(id.hashCode());
    }

    static int[] currentUser() {
        try {
            com.sun.security.auth.module.UnixSystem unix = new com.sun.security.auth.module.UnixSystem();
            return new int[] {(int) unix.getUid(), (int) unix.getGid()};
        } catch (Throwable e) {
            return new int[] {0, 0};
        }
    }

    /** s3://BUCKET[/PREFIX]; the prefix ends with / when there is one. */
    record Location(String bucket, String prefix) {
        static Location parse(String text) {
            if (!text.startsWith("s3://")) {
                throw new Main.UserError("expected s3://BUCKET[/PREFIX], got " + text);
            }
            String rest = text.substring(5);
            int slash = rest.indexOf('/');
            String bucket = slash < 0 ? rest : rest.substring(0, slash);
            String prefix = slash < 0 ? "" : rest.substring(slash + 1);
            if (bucket.isEmpty()) {
                throw new Main.UserError("no bucket in " + text);
            }
            if (!prefix.isEmpty() && !prefix.endsWith("/")) {
                prefix = prefix + "/";
            }
            if (prefix.contains("//") || prefix.startsWith("/")) {
                throw new Main.UserError("a prefix cannot have an empty component: " + text);
            }
            return new Location(bucket, prefix);
        }
    }
}
