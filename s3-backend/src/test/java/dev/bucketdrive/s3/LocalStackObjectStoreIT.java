package dev.bucketdrive.s3;

import dev.bucketdrive.core.store.ObjectStore;
import dev.bucketdrive.core.store.ObjectStoreContract;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.localstack.LocalStackContainer;

/** The ObjectStore contract against LocalStack's S3. Skipped (not failed) where no Docker engine runs. */
@Testcontainers(disabledWithoutDocker = true)
class LocalStackObjectStoreIT extends ObjectStoreContract {

    @Container
    static final LocalStackContainer LOCALSTACK = new LocalStackContainer(ContainerBuckets.LOCALSTACK_IMAGE)
            .withServices("s3");

    private static S3ObjectStore store;

    @BeforeAll
    static void connect() {
        S3Options options = ContainerBuckets.create(LOCALSTACK.getEndpoint(), LOCALSTACK.getAccessKey(),
                LOCALSTACK.getSecretKey(), LOCALSTACK.getRegion(), "contract");
        store = S3ObjectStore.create(options);
    }

    @AfterAll
    static void disconnect() {
        if (store != null) {
            store.close();
        }
    }

    @Override
    protected ObjectStore store() {
        return store;
    }

    /** Not known to be honoured by LocalStack; not yet checked (no Docker engine where this was written). */
    @Override
    protected boolean conditionalCompleteSupported() {
        return false;
    }
}
