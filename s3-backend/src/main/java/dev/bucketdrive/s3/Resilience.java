package dev.bucketdrive.s3;

import dev.bucketdrive.core.store.StoreException;
import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.bulkhead.BulkheadFullException;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.core.IntervalFunction;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Retry, circuit breaker and bulkhead around every call, in that order from the outside in:
 * each retry attempt passes the circuit breaker, which lets it take a place in the bulkhead.
 * The circuit counts only transient failures (the server did not answer sensibly); an answer such
 * as 404 or 412 proves the server is alive. A call refused by an open circuit or a full bulkhead
 * fails at once as UNAVAILABLE and is not retried here: the caller decides when to try again.
 */
final class Resilience {

    private static final Logger LOG = LoggerFactory.getLogger(Resilience.class);

    private final Retry retry;
    private final CircuitBreaker circuit;
    private final Bulkhead bulkhead;

    Resilience(String name, S3Options o) {
        retry = Retry.of(name, RetryConfig.custom()
                .maxAttempts(o.maxAttempts())
                .intervalFunction(IntervalFunction.ofExponentialRandomBackoff(
                        o.initialBackoff(), 2.0, 0.5, o.maxBackoff()))
                .retryOnException(Resilience::retryable)
                .build());
        circuit = CircuitBreaker.of(name, CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(o.circuitWindow())
                .minimumNumberOfCalls(Math.max(1, o.circuitWindow() / 2))
                .failureRateThreshold(o.circuitFailurePercent())
                .waitDurationInOpenState(o.circuitOpenFor())
                .permittedNumberOfCallsInHalfOpenState(2)
                .recordException(Resilience::retryable)
                .build());
        bulkhead = Bulkhead.of(name, BulkheadConfig.custom()
                .maxConcurrentCalls(o.maxInFlight())
                .maxWaitDuration(o.maxQueueWait())
                .build());
        retry.getEventPublisher().onRetry(e -> LOG.debug("retry {} of {} after {}: {}",
                e.getNumberOfRetryAttempts(), name, e.getWaitInterval(), e.getLastThrowable().getMessage()));
        circuit.getEventPublisher().onStateTransition(e -> LOG.warn("S3 endpoint circuit {}: {}",
                name, e.getStateTransition()));
    }

    private static boolean retryable(Throwable t) {
        return t instanceof StoreException se && se.retryable();
    }

    /** Runs {@code call}, which must already throw only {@link StoreException} for store failures. */
    <T> T call(String what, Supplier<T> call) {
        Supplier<T> guarded = CircuitBreaker.decorateSupplier(circuit, Bulkhead.decorateSupplier(bulkhead, call));
        Supplier<T> refusalsTyped = () -> {
            try {
                return guarded.get();
            } catch (CallNotPermittedException e) {
                throw new StoreException(StoreException.Kind.UNAVAILABLE,
                        what + ": the S3 endpoint failed repeatedly; not trying again for now", e);
            } catch (BulkheadFullException e) {
                throw new StoreException(StoreException.Kind.UNAVAILABLE,
                        what + ": too many S3 requests in flight", e);
            }
        };
        return Retry.decorateSupplier(retry, refusalsTyped).get();
    }

    boolean circuitOpen() {
        return circuit.getState() == CircuitBreaker.State.OPEN;
    }
}
