untrusted comment: verify with the signify key of frostsign group B7217D8D0CDF1FCAB6EC61C332D8B4B2 (2-of-3, signed by Example Alice, Example Carol)
RWQup45UnEFSsL7FTTJV8Vn1/salyawEIHncfp0146GJW61HhU2QwOgvbpo0dTfHppOFBosjfs9cmtBVEJnvtMuswvqAuJUisgE=
SHA256 (hello-frostsign.txt) = c896b25427303f288cce0f3593ea65353d58b9978d74fb0173f9ec7319ca9bb2
