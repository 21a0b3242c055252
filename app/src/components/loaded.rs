//! A part of a page made from loaded data keeps its signals for as long as it is shown.
//!
//! The closure inside a `<Transition>` that makes a part from its data runs again when the data
//! changes, and each run disposes every signal, memo and callback the run before made. The part
//! that run made can still be on show: the Transition keeps it until the next one is ready, and a
//! part whose answer came just before the next change is put on the page after its run was
//! cleaned up. Its effects and handlers are live: a click, a live update or its charts' answer
//! then reads a disposed value and the WASM aborts (seen when the dashboard's views changed faster
//! than their answers came). A part made under an owner of its own, a child of an owner that
//! stays while the part is shown, loses its signals only when it is replaced or removed.
use leptos::reactive::owner::{Owner, WeakOwner};
use leptos::tachys::reactive_graph::OwnedView;

/// The owner the parts a `<Transition>` loads are made under: one that is not cleaned up while they
/// are shown (the page's component, or the component that holds the Transition).
#[derive(Clone)]
pub struct PartOwner(Option<WeakOwner>);

impl PartOwner {
    /// The current owner: call it in the component that holds the Transition, outside any
    /// `Suspend` and any closure that runs again.
    pub fn here() -> Self {
        // Weak: the closures holding it belong to that owner, which must not keep itself alive.
        PartOwner(Owner::current().map(|o| o.downgrade()))
    }

    /// Makes `part` under an owner of its own, cleaned up when the part is replaced or removed.
    ///
    /// A child of that owner, so that the part finds the page's contexts (the address, the
    /// viewer) and the server's hydration data. That owner keeps a weak link to each child until
    /// it goes: a couple of hundred bytes per view a reader opens. A part must not start work
    /// that never ends (a future waiting for ever): it would hold the part's owner, and what the
    /// part cleans up when replaced (its live stream), for ever.
    pub fn part<V>(&self, part: impl FnOnce() -> V) -> OwnedView<V> {
        let owner = self
            .0
            .as_ref()
            .and_then(WeakOwner::upgrade)
            .map_or_else(Owner::new, |page| page.child());
        let view = owner.with(part);
        OwnedView::new_with_owner(view, owner)
    }
}
