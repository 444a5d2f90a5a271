use std::time::Duration;

use devflow_sync_core::Error;
use devflow_sync_core::clock::ManualClock;
use devflow_sync_core::model::{ConnectionId, ObjectType};
use devflow_sync_core::store::LeaseManager;

/// One holder at a time; a lapsed lease can be taken and then cannot be renewed by its
/// old holder; release frees it, and releasing a lost lease does not free the new one.
/// `clock` must be the clock the manager reads.
pub async fn lease_manager(leases: &dyn LeaseManager, clock: &ManualClock) {
    let conn = ConnectionId::new("conformance-leases");
    let object = ObjectType::new("issue");
    let ttl = Duration::from_secs(30);
    let a = leases
        .acquire(&conn, &object, "a", ttl)
        .await
        .expect("acquire")
        .expect("free lease");
    assert!(
        leases
            .acquire(&conn, &object, "b", ttl)
            .await
            .expect("acquire")
            .is_none(),
        "a held lease is not granted twice"
    );
    let other = ObjectType::new("page");
    let p = leases
        .acquire(&conn, &other, "b", ttl)
        .await
        .expect("acquire")
        .expect("another object is free");
    leases.release(&p).await.expect("release");

    clock.advance(Duration::from_secs(20));
    let a = leases.renew(&a, ttl).await.expect("renew while held");
    clock.advance(Duration::from_secs(20));
    assert!(
        leases
            .acquire(&conn, &object, "b", ttl)
            .await
            .expect("acquire")
            .is_none(),
        "renewal extended the lease"
    );
    clock.advance(Duration::from_secs(31));
    let b = leases
        .acquire(&conn, &object, "b", ttl)
        .await
        .expect("acquire")
        .expect("lapsed lease is free");
    assert_ne!(a.token, b.token);
    let err = leases.renew(&a, ttl).await.expect_err("renew a lost lease");
    assert!(matches!(err, Error::Precondition(_)), "{err:?}");
    leases
        .release(&a)
        .await
        .expect("releasing a lost lease succeeds");
    assert!(
        leases
            .acquire(&conn, &object, "c", ttl)
            .await
            .expect("acquire")
            .is_none(),
        "releasing a lost lease does not free the new holder's"
    );
    leases.release(&b).await.expect("release");
    let c = leases
        .acquire(&conn, &object, "c", ttl)
        .await
        .expect("acquire")
        .expect("released lease is free");
    leases.release(&c).await.expect("release");
}
