package dev.bucketdrive.core.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class InMemoryObjectStoreTest extends ObjectStoreContract {

    private final InMemoryObjectStore store = new InMemoryObjectStore();

    @Override
    protected ObjectStore store() {
        return store;
    }

    @Test
    void instrumentationCountsCallsAndBytes() {
        var counted = new InstrumentedObjectStore(new InMemoryObjectStore());
        counted.put("k", Body.of(new byte[10]), PutOptions.DEFAULT);
        counted.get("k", 0, 4, null);
        counted.get("k", 0, 100, null);
        counted.head("k");
        assertThat(counted.calls(InstrumentedObjectStore.Op.PUT)).isEqualTo(1);
        assertThat(counted.calls(InstrumentedObjectStore.Op.GET)).isEqualTo(2);
        assertThat(counted.calls(InstrumentedObjectStore.Op.HEAD)).isEqualTo(1);
        assertThat(counted.totalCalls()).isEqualTo(4);
        assertThat(counted.bytesSent()).isEqualTo(10);
        assertThat(counted.bytesReceived()).isEqualTo(14);
        counted.resetCounters();
        assertThat(counted.totalCalls()).isZero();
    }

    @Test
    void injectedFaultsFailExactlyTheNextCallsOfTheOperation() {
        var faulty = new InstrumentedObjectStore(new InMemoryObjectStore());
        faulty.put("k", Body.of(new byte[1]), PutOptions.DEFAULT);
        faulty.failNext(InstrumentedObjectStore.Op.GET, 2, StoreException.Kind.TRANSIENT);
        faulty.head("k");
        for (int i = 0; i < 2; i++) {
            assertThatThrownBy(() -> faulty.get("k", 0, 1, null))
                    .isInstanceOfSatisfying(StoreException.class,
                            e -> assertThat(e.kind()).isEqualTo(StoreException.Kind.TRANSIENT));
        }
        assertThat(faulty.get("k", 0, 1, null).data()).hasSize(1);
        assertThat(faulty.calls(InstrumentedObjectStore.Op.GET)).isEqualTo(3);
    }

    @Test
    void latencyDelaysEveryCall() {
        var slow = new InstrumentedObjectStore(new InMemoryObjectStore());
        slow.latency(Duration.ofMillis(30));
        long start = System.nanoTime();
        slow.list("", "/", null, 10);
        // Not a performance assertion: the injected wait is a floor, whatever the machine.
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(30));
    }

    @Test
    void serverWithoutPartCopySaysNotImplemented() {
        var old = new InMemoryObjectStore(java.time.Clock.systemUTC(), false);
        old.put("s", Body.of(new byte[10]), PutOptions.DEFAULT);
        MultipartUpload up = old.createMultipart("t", PutOptions.DEFAULT);
        assertThatThrownBy(() -> old.uploadPartCopy(up, 1, "s", null, 0, 5))
                .isInstanceOfSatisfying(StoreException.class,
                        e -> assertThat(e.kind()).isEqualTo(StoreException.Kind.NOT_IMPLEMENTED));
        assertThat(old.keys()).isEqualTo(List.of("s"));
    }
}
