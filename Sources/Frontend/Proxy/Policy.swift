import EgressRoutes

/// The routes and the credentials that go with them, swapped as one on reload (SIGHUP) so a
/// request never sees the routes of one file with the tokens of another.
struct Policy: Sendable {
    let routes: RoutesConfig
    let table: RouteTable
    let tokens: TokenStore

    init(routes: RoutesConfig, tokens: TokenStore) {
        self.routes = routes
        self.table = RouteTable(routes)
        self.tokens = tokens
    }
}
