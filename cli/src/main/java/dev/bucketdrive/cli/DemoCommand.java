package dev.bucketdrive.cli;

import dev.bucketdrive.s3.S3ObjectStore;
import dev.bucketdrive.s3.S3Options;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.BlobStoreContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.Callable;

/**
 * {@code bucketdrive demo [MOUNTPOINT]}: an S3 server in this process (S3Proxy, objects as files under
 * the user's data directory) with a bucket {@code demo}, mounted like any other. No account needed.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Starts an embedded S3 server (files under ~/.local/share/bucketdrive/demo) and mounts its bucket.")
final class DemoCommand implements Callable<Integer> {

    static final String BUCKET = "demo";
    private static final String IDENTITY = "demo-access-key";
    private static final String CREDENTIAL = "demo-secret-key";

    @Parameters(index = "0", arity = "0..1", paramLabel = "MOUNTPOINT",
            description = "Where to mount (default: ~/bucketdrive-demo).")
    Path mountPoint;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Where the embedded server keeps the objects.")
    Path dataDir;

    @Override
    public Integer call() throws Exception {
        Path data = dataDir != null ? dataDir : Places.data().resolve("demo");
        Path objects = data.resolve("s3");
        Files.createDirectories(objects);
        Path mnt = mountPoint != null ? mountPoint : Path.of(System.getProperty("user.home"), "bucketdrive-demo");
        if (!System.getProperty("os.name", "").startsWith("Windows")) {
            Files.createDirectories(mnt);
        }
        Properties props = new Properties();
        props.setProperty("jclouds.filesystem.basedir", objects.toString());
        BlobStoreContext context = ContextBuilder.newBuilder("filesystem-nio2")
                .credentials(IDENTITY, CREDENTIAL).overrides(props).build(BlobStoreContext.class);
        BlobStore blobs = context.getBlobStore();
        if (!blobs.containerExists(BUCKET)) {
            blobs.createContainerInLocation(null, BUCKET);
        }
        S3Proxy proxy = S3Proxy.builder().blobStore(blobs).endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, IDENTITY, CREDENTIAL).build();
        proxy.start();
        try {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!"STARTED".equals(proxy.getState())) {
                if (System.nanoTime() > deadline) {
                    throw new Main.UserError("the embedded S3 server did not start: " + proxy.getState());
                }
                Thread.sleep(20);
            }
            URI endpoint = URI.create("http://127.0.0.1:" + proxy.getPort());
            // The SDK's default chain reads these system properties; they are the demo server's own keys.
            System.setProperty("aws.accessKeyId", IDENTITY);
            System.setProperty("aws.secretAccessKey", CREDENTIAL);
            S3Options options = S3Options.builder(BUCKET).endpoint(endpoint).pathStyle(true).region("us-east-1").build();
            System.out.println("Embedded S3 server at " + endpoint + " (bucket " + BUCKET + ", objects in " + objects + ")");
            int[] ids = MountCommand.currentUser();
            MountSession.Settings settings = new MountSession.Settings(BUCKET, "", mnt, data.resolve("cache"),
                    2L << 30, false, false, ids[0], ids[1], 022, Duration.ofSeconds(1), Duration.ofSeconds(30),
                    Duration.ofSeconds(10));
            return MountSession.run(S3ObjectStore.create(options), settings, System.out);
        } finally {
            stopQuietly(proxy);
            context.close();
        }
    }

    private static void stopQuietly(S3Proxy proxy) {
        try {
            proxy.stop();
        } catch (Exception e) {
            // exiting anyway
        }
    }
}
