use crate::common::*;

#[test]
fn dkg_2_of_3_end_to_end() {
    let env = Env::new();
    let hs = env.holders(3);
    let group = env.dkg("cer", 2, &hs);
    assert!(group.exists());
}
