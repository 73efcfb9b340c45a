package dev.bucketdrive.s3;

import java.util.concurrent.CompletableFuture;
import software.amazon.awssdk.http.auth.aws.scheme.AwsV4AuthScheme;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.AsyncSignRequest;
import software.amazon.awssdk.http.auth.spi.signer.AsyncSignedRequest;
import software.amazon.awssdk.http.auth.spi.signer.SignRequest;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.identity.spi.IdentityProvider;
import software.amazon.awssdk.identity.spi.IdentityProviders;

/**
 * SigV4 with {@code UNSIGNED-PAYLOAD} on plain-HTTP endpoints: the request line and headers are
 * signed, the body is not, as the SDK already does over HTTPS. Over plain HTTP the SDK insists on
 * hashing every body with SHA-256, which cost about 40% of the drive's CPU during a 256 MiB upload
 * (docs/BENCHMARKS.md). What it protected is thin there: a party that can rewrite a request body on
 * the wire can as well read every object and rewrite every download (responses are never signed).
 *
 * <p>A request that carries a checksum the operation requires (DeleteObjects) is signed unchanged:
 * its checksum is computed from the body.
 */
final class UnsignedBodySigner implements AwsV4HttpSigner {

    private final AwsV4HttpSigner signer = AwsV4HttpSigner.create();

    /** The SigV4 scheme of the SDK with this signer in it. */
    static AwsV4AuthScheme scheme() {
        AwsV4AuthScheme standard = AwsV4AuthScheme.create();
        UnsignedBodySigner signer = new UnsignedBodySigner();
        return new AwsV4AuthScheme() {
            @Override
            public String schemeId() {
                return standard.schemeId();
            }

            @Override
            public IdentityProvider<AwsCredentialsIdentity> identityProvider(IdentityProviders providers) {
                return standard.identityProvider(providers);
            }

            @Override
            public AwsV4HttpSigner signer() {
                return signer;
            }
        };
    }

    @Override
    public SignedRequest sign(SignRequest<? extends AwsCredentialsIdentity> request) {
        if (request.payload().isEmpty() || request.hasProperty(CHECKSUM_ALGORITHM)) {
            return signer.sign(request);
        }
        // Without the body the SDK's signer honours "do not sign the payload" on plain HTTP too.
        SignedRequest signed = signer.sign(request.copy(r -> r.payload(null).putProperty(PAYLOAD_SIGNING_ENABLED, false)));
        return signed.copy(s -> s.payload(request.payload().get()));
    }

    @Override
    public CompletableFuture<AsyncSignedRequest> signAsync(AsyncSignRequest<? extends AwsCredentialsIdentity> request) {
        return signer.signAsync(request); // the drive's client is synchronous
    }
}
