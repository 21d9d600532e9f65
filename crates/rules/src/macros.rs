/// Declares a rule: its doc comment becomes its documentation, and its metadata a `META`
/// constant.
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        pub(crate) struct $name:ident;
        id: $id:literal,
        name: $rname:literal,
        severity: $sev:ident,
        summary: $summary:literal,
        references: [$($reference:literal),* $(,)?],
        tags: [$($tag:literal),* $(,)?],
        level: $level:expr,
        scope: $scope:ident,
        kinds: $kinds:expr,
        options: $options:expr $(,)?
    ) => {
        $(#[doc = $doc])*
        pub(crate) struct $name;

        impl $name {
            pub(crate) const META: palisade_core::RuleMeta = palisade_core::RuleMeta {
                id: $id,
                name: $rname,
                severity: palisade_core::Severity::$sev,
                summary: $summary,
                doc: concat!($($doc, "\n"),*),
                references: &[$($reference),*],
                tags: &[$($tag),*],
                level: $level,
                scope: palisade_core::Scope::$scope,
                kinds: $kinds,
                options: $options,
                family_name: None,
            };
        }
    };
}
