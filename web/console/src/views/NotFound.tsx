import { Heading } from "../components/Heading";
import { Link } from "../router";

export function NotFound() {
  return (
    <section aria-labelledby="view-title">
      <Heading>No such page</Heading>
      <p>
        The console has no page at this address. Go to <Link to="/payments">the payment search</Link>.
      </p>
    </section>
  );
}
