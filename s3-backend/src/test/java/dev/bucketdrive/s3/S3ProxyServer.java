package dev.bucketdrive.s3;

import java.nio.file.Path;
import java.util.Properties;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.BlobStoreContext;
import org.jclouds.http.HttpResponse;
import org.jclouds.http.HttpResponseException;
import org.jclouds.rest.AuthorizationException;

/**
 * A real S3 server in this JVM: S3Proxy over jclouds' in-memory blob store, speaking HTTP with AWS
 * signature checks on. It can misbehave on purpose: the next N requests fail with an HTTP status,
 * are denied, or stall, which is how the backend's retry and circuit breaker are tested for real.
 *
 * <p>A "request" here is a call S3Proxy makes into its blob store; a failing request makes exactly
 * one, so counts of injected faults are counts of failed HTTP requests.
 */
public final class S3ProxyServer implements AutoCloseable {

    public static final String IDENTITY = "test-access-key";
    public static final String CREDENTIAL = "test-secret-key";

    private final BlobStore faultyStore;
    private final AtomicInteger failuresLeft = new AtomicInteger();
    private volatile int failureStatus;
    private final AtomicInteger denialsLeft = new AtomicInteger();
    private final AtomicInteger stallsLeft = new AtomicInteger();
    private volatile Duration stall = Duration.ZERO;
    private final AtomicLong blobStoreCalls = new AtomicLong();
    private S3Proxy proxy;
    private int port;

    /** A server keeping its buckets in memory. */
    public S3ProxyServer() throws Exception {
        this(ContextBuilder.newBuilder("transient").credentials(IDENTITY, CREDENTIAL)
                .build(BlobStoreContext.class).getBlobStore());
    }

    /**
     * A server keeping its buckets as files under {@code dir}, as the demo and the benchmarks run it
     * (this store reports other ETags for multipart objects than the in-memory one).
     */
    public static S3ProxyServer onFilesystem(Path dir) throws Exception {
        Properties p = new Properties();
        p.setProperty("jclouds.filesystem.basedir", dir.toString());
        return new S3ProxyServer(ContextBuilder.newBuilder("filesystem-nio2").credentials(IDENTITY, CREDENTIAL)
                .overrides(p).build(BlobStoreContext.class).getBlobStore());
    }

    private S3ProxyServer(BlobStore memory) throws Exception {
        InvocationHandler faults = (self, method, args) -> {
            blobStoreCalls.incrementAndGet();
            if (stallsLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                Thread.sleep(stall);
            }
            if (denialsLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                throw new AuthorizationException("injected denial");
            }
            if (failuresLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                throw new HttpResponseException("injected failure", null,
                        HttpResponse.builder().statusCode(failureStatus).message("injected").build());
            }
            try {
                return method.invoke(memory, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        faultyStore = (BlobStore) Proxy.newProxyInstance(BlobStore.class.getClassLoader(),
                new Class<?>[] {BlobStore.class}, faults);
        start(0);
    }

    private void start(int wantedPort) throws Exception {
        proxy = S3Proxy.builder()
                .blobStore(faultyStore)
                .endpoint(URI.create("http://127.0.0.1:" + wantedPort))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, IDENTITY, CREDENTIAL)
                .build();
        proxy.start();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!"STARTED".equals(proxy.getState())) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("S3Proxy did not start: " + proxy.getState());
            }
            Thread.sleep(10);
        }
        port = proxy.getPort();
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + port);
    }

    public void createBucket(String bucket) {
        faultyStore.createContainerInLocation(null, bucket);
    }

    /** Options for a backend that talks to this server; the credentials come from system properties. */
    public S3Options.Builder options(String bucket) {
        System.setProperty("aws.accessKeyId", IDENTITY);
        System.setProperty("aws.secretAccessKey", CREDENTIAL);
        return S3Options.builder(bucket).endpoint(endpoint()).pathStyle(true).region("us-east-1");
    }

    /** The next {@code count} requests answer with {@code httpStatus}. */
    public void failNext(int count, int httpStatus) {
        failureStatus = httpStatus;
        failuresLeft.set(count);
    }

    /** The next {@code count} requests answer 403 AccessDenied. */
    public void denyNext(int count) {
        denialsLeft.set(count);
    }

    /** The next {@code count} requests wait {@code delay} before they are served. */
    public void stallNext(int count, Duration delay) {
        stall = delay;
        stallsLeft.set(count);
    }

    /** Requests that reached the blob store, failed ones included. */
    public long requests() {
        return blobStoreCalls.get();
    }

    /** Stops listening: clients now get connection refused. */
    public void stop() throws Exception {
        proxy.stop();
    }

    /** Listens again on the same port, with the same data. */
    public void restart() throws Exception {
        start(port);
    }

    @Override
    public void close() throws Exception {
        proxy.stop();
    }
}
