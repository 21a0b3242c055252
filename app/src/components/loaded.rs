//! A part of a page made from loaded data keeps its signals for as long as it is shown.
//!
//! A `<Transition>` keeps showing a part while the next one loads. The closure that made it runs
//! again as soon as the next data starts loading, and running again disposes every signal, memo
//! and callback its previous run made, while the part on show still has live effects and
//! handlers: a click, a live update or a late answer for its charts then reads a disposed value,
//! and the WASM aborts. A part made under an owner of its own, a child of the page's rather than
//! of that closure's, loses its signals when it leaves the page instead.
use leptos::reactive::owner::{Owner, WeakOwner};
use leptos::tachys::reactive_graph::OwnedView;

/// The owner of the page, taken where the page is made; the parts it loads are made under it.
#[derive(Clone)]
pub struct PageOwner(Option<WeakOwner>);

impl PageOwner {
    /// The current owner: call it in the page's component, outside any `Suspend`.
    pub fn here() -> Self {
        // Weak: the closures holding it belong to the page, which must not keep itself alive.
        PageOwner(Owner::current().map(|o| o.downgrade()))
    }

    /// Makes `part` under an owner of its own, cleaned up when the part is replaced or removed.
    ///
    /// A child of the page's owner, so that the part finds the page's contexts (the address, the
    /// viewer) and the server's hydration data. The page's owner keeps a weak link to each child
    /// until the page goes: a couple of hundred bytes per view a reader opens.
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
