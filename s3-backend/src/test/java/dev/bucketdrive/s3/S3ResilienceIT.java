package dev.bucketdrive.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bucketdrive.core.store.Body;
import dev.bucketdrive.core.store.PutOptions;
import dev.bucketdrive.core.store.StoreException;
import dev.bucketdrive.core.store.StoreException.Kind;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The backend against a real S3 server that fails on purpose: what is retried, what is not. */
class S3ResilienceIT {

    private S3ProxyServer server;

    @BeforeEach
    void start() throws Exception {
        server = new S3ProxyServer();
        server.createBucket("faults");
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    private S3Options.Builder fastRetries() {
        return server.options("faults").maxAttempts(5).initialBackoff(Duration.ofMillis(10))
                .maxBackoff(Duration.ofMillis(50));
    }

    private static void assertKind(Throwable t, Kind kind) {
        assertThat(t).isInstanceOf(StoreException.class);
        assertThat(((StoreException) t).kind()).as(t.getMessage()).isEqualTo(kind);
    }

    @Test
    void serverErrorsAreRetriedUntilTheyPass() {
        try (S3ObjectStore store = S3ObjectStore.create(fastRetries().build())) {
            store.put("k", Body.of(new byte[] {1, 2, 3}), PutOptions.DEFAULT);
            long before = server.requests();
            server.failNext(3, 503);
            assertThat(store.get("k", 0, 10, null).data()).containsExactly(1, 2, 3);
            assertThat(server.requests() - before).isEqualTo(4);

            server.failNext(2, 500);
            store.put("k2", Body.of(new byte[] {9}), PutOptions.DEFAULT);
            assertThat(store.head("k2").size()).isEqualTo(1);
        }
    }

    @Test
    void retriesStopAfterMaxAttempts() {
        try (S3ObjectStore store = S3ObjectStore.create(fastRetries().maxAttempts(3).build())) {
            store.put("k", Body.of(new byte[] {1}), PutOptions.DEFAULT);
            long before = server.requests();
            server.failNext(10, 502);
            assertThatThrownBy(() -> store.head("k")).satisfies(t -> assertKind(t, Kind.TRANSIENT));
            assertThat(server.requests() - before).isEqualTo(3);
        }
    }

    @Test
    void accessDeniedIsNotRetriedAndNamesTheKey() {
        try (S3ObjectStore store = S3ObjectStore.create(fastRetries().build())) {
            long before = server.requests();
            server.denyNext(1);
            assertThatThrownBy(() -> store.put("secret/plan.txt", Body.of(new byte[] {1}), PutOptions.DEFAULT))
                    .satisfies(t -> assertKind(t, Kind.ACCESS_DENIED))
                    .hasMessageContaining("secret/plan.txt");
            assertThat(server.requests() - before).isEqualTo(1);
        }
    }

    @Test
    void wrongCredentialsAreAccessDeniedWithoutRetry() {
        S3Options options = fastRetries().build();
        String goodSecret = System.getProperty("aws.secretAccessKey");
        System.setProperty("aws.secretAccessKey", "not-the-secret");
        try (S3ObjectStore store = S3ObjectStore.create(options)) {
            long before = server.requests();
            assertThatThrownBy(store::checkBucket).satisfies(t -> assertKind(t, Kind.ACCESS_DENIED))
                    .hasMessageNotContaining("not-the-secret");
            // Signature checks happen before the blob store is asked: no request reached it.
            assertThat(server.requests() - before).isZero();
        } finally {
            System.setProperty("aws.secretAccessKey", goodSecret);
        }
    }

    @Test
    void missingBucketIsBucketNotFound() {
        try (S3ObjectStore store = S3ObjectStore.create(server.options("no-such-bucket").build())) {
            assertThatThrownBy(store::checkBucket).satisfies(t -> assertKind(t, Kind.BUCKET_NOT_FOUND));
            // A 404 is NOT_FOUND by its status alone: the error code in the body makes it the bucket.
            assertThatThrownBy(() -> store.get("k", 0, 1, null)).satisfies(t -> assertKind(t, Kind.BUCKET_NOT_FOUND));
            assertThatThrownBy(() -> store.put("k", Body.of(new byte[] {1}), PutOptions.DEFAULT))
                    .satisfies(t -> assertKind(t, Kind.BUCKET_NOT_FOUND));
        }
    }

    @Test
    void slowAttemptsTimeOutAndAreRetried() {
        try (S3ObjectStore store = S3ObjectStore.create(fastRetries()
                .attemptTimeout(Duration.ofMillis(500)).build())) {
            store.put("k", Body.of(new byte[] {5}), PutOptions.DEFAULT);
            server.stallNext(1, Duration.ofSeconds(3));
            assertThat(store.get("k", 0, 1, null).data()).containsExactly(5);
        }
    }

    @Test
    void deadEndpointOpensTheCircuitThenCallsFailFastUntilItRecovers() throws Exception {
        try (S3ObjectStore store = S3ObjectStore.create(fastRetries().maxAttempts(2).circuitWindow(4)
                .circuitOpenFor(Duration.ofMillis(300)).build())) {
            store.put("k", Body.of(new byte[] {7}), PutOptions.DEFAULT);
            server.stop();

            // Connection refused: transient, retried, and counted by the circuit breaker.
            assertThatThrownBy(() -> store.head("k")).satisfies(t -> assertKind(t, Kind.TRANSIENT));
            assertThatThrownBy(() -> store.head("k")).satisfies(t -> assertKind(t, Kind.TRANSIENT));
            assertThat(store.circuitOpen()).isTrue();
            assertThatThrownBy(() -> store.head("k")).satisfies(t -> assertKind(t, Kind.UNAVAILABLE))
                    .hasMessageContaining("failed repeatedly");

            server.restart();
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            byte[] data = null;
            while (data == null && System.nanoTime() < deadline) {
                try {
                    data = store.get("k", 0, 1, null).data();
                } catch (StoreException e) {
                    assertThat(e.kind()).isIn(Kind.UNAVAILABLE, Kind.TRANSIENT);
                    Thread.sleep(50);
                }
            }
            assertThat(data).containsExactly(7);
            assertThat(store.circuitOpen()).isFalse();
        }
    }
}
