// The doctor edits their own working hours and days off.
import { useSession } from "../auth";
import ScheduleEditor from "../components/ScheduleEditor";
import { providerIdOf } from "../components/StaffData";

export default function DoctorSchedule() {
  const { user } = useSession();
  const providerId = providerIdOf(user);
  return (
    <>
      <h1>Your working hours</h1>
      {providerId ? (
        <>
          <p className="muted">
            Patients can book the free times inside these hours. Appointments already booked stay as they are when
            you change them.
          </p>
          <ScheduleEditor providerId={providerId} />
        </>
      ) : (
        <div className="alert alert-error" role="alert">
          <p>This login is not linked to a doctor, so there are no working hours to edit. Ask the clinic's admin.</p>
        </div>
      )}
    </>
  );
}
