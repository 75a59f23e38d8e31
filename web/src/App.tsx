import { useEffect, useRef } from "react";
import { BrowserRouter, Link, NavLink, Navigate, Route, Routes, useLocation, useNavigate } from "react-router-dom";
import { homeFor, RequireAuth, useRestored, useSession } from "./auth";
import { session } from "./session";
import { Loading } from "./ui";
import Login from "./pages/Login";
import Register from "./pages/Register";
import Verify from "./pages/Verify";
import Book from "./pages/Book";
import MyBookings from "./pages/MyBookings";
import BookingPage from "./pages/BookingPage";
import DoctorDay from "./pages/DoctorDay";
import DoctorSchedule from "./pages/DoctorSchedule";
import AdminBookings from "./pages/AdminBookings";
import AdminDoctors from "./pages/AdminDoctors";
import AdminSchedule from "./pages/AdminSchedule";
import AdminServices from "./pages/AdminServices";
import NotFound from "./pages/NotFound";

function Nav() {
  const { user } = useSession();
  const navigate = useNavigate();
  const links: [string, string][] =
    user?.role === "admin"
      ? [
          ["/admin", "Bookings"],
          ["/admin/doctors", "Doctors"],
          ["/admin/services", "Services"],
        ]
      : user?.role === "provider"
        ? [
            ["/doctor", "Appointments"],
            ["/doctor/schedule", "Working hours"],
          ]
        : [
            ["/book", "Book"],
            ["/bookings", "My bookings"],
          ];
  return (
    <header className="topbar">
      <Link to={homeFor(user)} className="brand">
        Clinic booking
      </Link>
      <nav aria-label="Main">
        <ul>
          {links.map(([to, label]) => (
            <li key={to}>
              {/* Only the sections' own start pages need an exact match: /admin must not
                  light up on /admin/doctors, but Doctors should on a doctor's hours. */}
              <NavLink to={to} end={to === "/admin" || to === "/doctor"}>
                {label}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <div className="who">
        {user ? (
          <>
            <span className="who-name">{user.name}</span>
            <button
              type="button"
              className="link"
              onClick={() => void session.logout().then(() => navigate("/login"))}
            >
              Log out
            </button>
          </>
        ) : (
          <>
            <Link to="/login">Log in</Link>
            <Link to="/register">Sign up</Link>
          </>
        )}
      </div>
    </header>
  );
}

// Moves focus to the page's heading on every navigation, so screen-reader and keyboard users
// start at the new content rather than at the end of the old page.
function FocusOnNavigate() {
  const location = useLocation();
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const h1 = document.querySelector<HTMLElement>("main h1");
    if (h1) {
      h1.tabIndex = -1;
      h1.focus();
    }
  }, [location.pathname]);
  return null;
}

// When the session expires mid-use, go to the login page and come back afterwards.
function ExpiredRedirect() {
  const { expired } = useSession();
  const location = useLocation();
  const navigate = useNavigate();
  useEffect(() => {
    if (expired && location.pathname !== "/login") {
      navigate(`/login?expired=1&next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
    }
  }, [expired, location, navigate]);
  return null;
}

function Home() {
  const restored = useRestored();
  const { user } = useSession();
  if (!restored) return <Loading />;
  return <Navigate to={homeFor(user)} replace />;
}

export default function App() {
  return (
    <BrowserRouter>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <Nav />
      <FocusOnNavigate />
      <ExpiredRedirect />
      <main id="main">
        <Routes>
          <Route path="/" element={<Home />} />
          <Route path="/login" element={<Login />} />
          <Route path="/register" element={<Register />} />
          <Route path="/verify" element={<RequireAuth><Verify /></RequireAuth>} />
          <Route path="/book" element={<Book />} />
          <Route path="/bookings" element={<RequireAuth><MyBookings /></RequireAuth>} />
          <Route path="/bookings/:id" element={<RequireAuth><BookingPage /></RequireAuth>} />
          <Route path="/doctor" element={<RequireAuth roles={["provider"]}><DoctorDay /></RequireAuth>} />
          <Route path="/doctor/schedule" element={<RequireAuth roles={["provider"]}><DoctorSchedule /></RequireAuth>} />
          <Route path="/admin" element={<RequireAuth roles={["admin"]}><AdminBookings /></RequireAuth>} />
          <Route path="/admin/doctors" element={<RequireAuth roles={["admin"]}><AdminDoctors /></RequireAuth>} />
          <Route path="/admin/doctors/:id/schedule" element={<RequireAuth roles={["admin"]}><AdminSchedule /></RequireAuth>} />
          <Route path="/admin/services" element={<RequireAuth roles={["admin"]}><AdminServices /></RequireAuth>} />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </main>
    </BrowserRouter>
  );
}
