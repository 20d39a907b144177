"""Business domains for the synthetic generator, written in a compact spec language (nl2sql.synth.spec,
which holds the parser and the ColSpec/TableSpec/Domain types; they are re-exported here).

One line per table: `plural[/singular] [> parent, parent]: column:kind(args)~spoken name, ...`
"""

from __future__ import annotations

from nl2sql.synth.spec import ColSpec, Domain, TableSpec, domain  # noqa: F401 - the types are re-exported

DOMAINS: tuple[Domain, ...] = (
    domain("retail", "Retail stores selling products to customers.", """
        customers: name:person, city:city, email:email, signup_date:date, is_member:bool~loyalty member
        products: name:pick(Laptop|Desk Chair|Monitor|Headphones|Coffee Maker|Backpack|Sneakers|Blender|Lamp|Keyboard), category:choice(Electronics|Furniture|Clothing|Kitchen), price:money(5,1500), stock:int(0,500)
        orders > customers, products: quantity:int(1,10), order_date:date(2022,2024), total:money(10,5000), status:choice(shipped|pending|cancelled|delivered)
    """),
    domain("healthcare", "Hospitals, patients, doctors and appointments.", """
        patients: name:person, date_of_birth:date(1940,2015), city:city, blood_type:choice(A+|A-|B+|O+|O-|AB+), is_insured:bool~insured
        doctors: name:person, specialty:choice(Cardiology|Pediatrics|Oncology|Neurology|Dermatology), years_experience:int(1,40)~years of experience, salary:money(90000,350000)
        appointments > patients, doctors: appointment_date:date(2023,2024), duration_minutes:int(10,90)~duration in minutes, fee:money(50,600), status:choice(completed|cancelled|no-show|scheduled)
    """),
    domain("logistics", "Shipping of packages between warehouses by carriers.", """
        warehouses: name:word, city:city, capacity:int(1000,50000), opened_on:date(2005,2022)~opening date
        carriers: name:company, country:country, rating:float(1,5)
        shipments > warehouses, carriers: weight_kg:float(0.5,900)~weight in kg, cost:money(5,4000), ship_date:date(2023,2024), is_delivered:bool~delivered, priority:choice(standard|express|overnight)
    """),
    domain("finance", "Bank customers, accounts and transactions.", """
        clients: name:person, country:country, credit_score:int(300,850), joined_on:date(2010,2024)~join date
        accounts > clients: account_number:code~account number, account_type:choice(checking|savings|brokerage), balance:money(0,250000), opened_on:date(2012,2024)~opening date
        transactions > accounts: amount:money(1,20000), transaction_date:date(2023,2024), kind:choice(deposit|withdrawal|transfer|fee)~type, is_flagged:bool~flagged
    """),
    domain("education", "Students, courses and enrollments at a university.", """
        students: name:person, major:choice(Biology|History|Physics|Economics|Computer Science), enrollment_year:year(2018,2024)~enrollment year, gpa:float(1.5,4)~GPA
        courses: title:pick(Algorithms|Microeconomics|Organic Chemistry|World History|Linear Algebra|Statistics|Genetics|Databases), department:choice(Science|Humanities|Engineering), credits:int(1,6)
        enrollments > students, courses: grade:int(40,100), semester:choice(Fall 2023|Spring 2024|Fall 2024), enrolled_on:date(2023,2024)~enrollment date
    """),
    domain("energy", "Power plants and their energy production.", """
        plants: name:word, plant_type:choice(solar|wind|hydro|gas|nuclear)~type, country:country, capacity_mw:float(5,3000)~capacity in MW, commissioned_on:date(1980,2023)~commission date
        operators: name:company, country:country, employees:int(10,20000)~number of employees
        production > plants: output_mwh:float(10,90000)~output in MWh, reading_date:date(2023,2024), co2_tons:float(0,5000)~CO2 emissions in tons
    """),
    domain("sports", "Teams, players and matches of a league.", """
        teams: name:pick(Lions|Tigers|Eagles|Sharks|Wolves|Falcons|Bears|Hawks), city:city, founded:year(1890,2010)~founding year, stadium_capacity:int(5000,90000)
        players > teams: name:person, position:choice(forward|midfielder|defender|goalkeeper), age:int(17,40), goals:int(0,40), salary:money(50000,9000000)
        matches > teams: match_date:date(2023,2024), home_score:int(0,6), away_score:int(0,6), attendance:int(1000,80000)
    """),
    domain("hr", "Employees, departments and salaries of a company.", """
        departments: name:pick(Engineering|Sales|Marketing|Finance|Support|Legal|Operations), location:city, budget:money(100000,5000000)
        employees > departments: name:person, job_title:choice(Engineer|Manager|Analyst|Designer|Clerk), hire_date:date(2010,2024), salary:money(30000,250000), is_remote:bool~remote
        reviews > employees: review_date:date(2022,2024), score:int(1,5), reviewer:person
    """),
    domain("real_estate", "Properties, agents and sales.", """
        agents: name:person, agency:company, license_year:year(1995,2022)~license year, commission_rate:float(1,6)~commission rate
        properties: address:address, city:city, property_type:choice(house|apartment|condo|townhouse)~type, bedrooms:int(1,6), area_sqft:int(400,6000)~area in square feet, list_price:money(80000,3000000)~listing price
        sales > properties, agents: sale_price:money(70000,3200000)~sale price, sale_date:date(2020,2024), days_on_market:int(1,300)~days on market
    """),
    domain("restaurants", "Restaurants, dishes and customer orders.", """
        restaurants: name:pick(Bella Roma|Golden Dragon|Taco Loco|Le Petit|Spice Route|Sushi Zen|Burger Barn), cuisine:choice(Italian|Chinese|Mexican|French|Indian|Japanese|American), city:city, rating:float(1,5)
        dishes > restaurants: name:pick(Margherita Pizza|Pad Thai|Burrito|Ramen|Caesar Salad|Curry|Cheeseburger|Dumplings), price:money(4,45), calories:int(150,1500), is_vegetarian:bool~vegetarian
        orders > dishes: order_time:date(2024,2024)~order date, quantity:int(1,8), tip:money(0,30)
    """),
    domain("airlines", "Airlines, flights and passengers.", """
        airlines: name:pick(SkyJet|AeroNova|BlueWing|TransGlobal|Polar Air|SunHop), country:country, fleet_size:int(5,900)~fleet size
        flights > airlines: flight_number:code~flight number, origin:city, destination:city, departure_date:date(2024,2024), distance_km:int(200,15000)~distance in km, is_delayed:bool~delayed
        bookings > flights: passenger:person~passenger name, seat_class:choice(economy|premium|business|first)~class, fare:money(50,9000), booked_on:date(2023,2024)~booking date
    """),
    domain("hotels", "Hotels, rooms and guest reservations.", """
        hotels: name:pick(Grand Plaza|Seaside Inn|Mountain Lodge|City Suites|Harbor View|Royal Palm), city:city, stars:int(1,5), opened:year(1950,2022)~opening year
        rooms > hotels: room_number:code~room number, room_type:choice(single|double|suite|family)~type, nightly_rate:money(40,900)~nightly rate
        reservations > rooms: guest:person~guest name, check_in:date(2024,2024)~check-in date, nights:int(1,14)~number of nights, total_cost:money(40,12000), is_cancelled:bool~cancelled
    """),
    domain("manufacturing", "Factories, machines and production batches.", """
        factories: name:word, city:city, employees:int(20,5000)~number of employees, opened_on:date(1970,2020)~opening date
        machines > factories: model:pick(CNC-500|Press-X|Lathe-3|Robot-A7|Mill-9|Welder-Pro), installed_on:date(2010,2024)~installation date, hourly_cost:money(10,400)~hourly cost, is_operational:bool~operational
        batches > machines: units_produced:int(50,20000)~units produced, defect_rate:float(0,12)~defect rate, produced_on:date(2024,2024)~production date
    """),
    domain("agriculture", "Farms, crops and harvests.", """
        farms: name:pick(Green Acres|Sunny Fields|River Bend|Oak Hollow|Prairie Gold|Hilltop Farm), region:choice(North|South|East|West|Central), area_hectares:float(5,5000)~area in hectares, is_organic:bool~organic
        crops: name:pick(Wheat|Corn|Soybeans|Rice|Barley|Potatoes|Tomatoes|Coffee), crop_type:choice(grain|vegetable|legume|cash crop)~type, growing_days:int(60,240)~growing days
        harvests > farms, crops: harvest_date:date(2022,2024), yield_tons:float(1,9000)~yield in tons, price_per_ton:money(80,3000)~price per ton
    """),
    domain("telecom", "Mobile subscribers, plans and usage.", """
        plans: name:pick(Basic|Plus|Unlimited|Family|Student|Business), monthly_fee:money(5,120)~monthly fee, data_gb:int(1,200)~data allowance in GB
        subscribers > plans: name:person, city:city, phone:phone~phone number, activated_on:date(2015,2024)~activation date, is_active:bool~active
        usage > subscribers: usage_month:date(2024,2024)~month, data_used_gb:float(0,250)~data used in GB, minutes:int(0,3000)~call minutes, overage_charge:money(0,90)~overage charge
    """),
    domain("insurance", "Policyholders, policies and claims.", """
        policyholders: name:person, date_of_birth:date(1940,2004), state:choice(CA|NY|TX|FL|WA|IL), risk_score:int(1,100)~risk score
        policies > policyholders: policy_type:choice(auto|home|life|health|travel)~type, premium:money(100,9000), start_date:date(2018,2024), is_active:bool~active
        claims > policies: amount:money(100,150000), filed_on:date(2022,2024)~filing date, status:choice(open|approved|denied|paid)
    """),
    domain("ecommerce", "An online marketplace of sellers, listings and reviews.", """
        sellers: name:company, country:country, joined_on:date(2015,2024)~join date, is_verified:bool~verified
        listings > sellers: title:pick(Vintage Watch|Phone Case|Yoga Mat|Water Bottle|Desk Lamp|Board Game|Sunglasses|Wallet), category:choice(Accessories|Sports|Home|Toys|Fashion), price:money(3,900), views:int(0,100000)
        reviews > listings: reviewer:person~reviewer name, stars:int(1,5)~star rating, review_date:date(2023,2024), helpful_votes:int(0,500)~helpful votes
    """),
    domain("library", "A public library's books, members and loans.", """
        authors: name:person, country:country, birth_year:year(1900,1995)~birth year
        books > authors: title:pick(The Silent River|Blue Horizons|Night Garden|Echoes|The Last Map|Paper Moons|Iron Roads|Quiet Stars), genre:choice(fiction|mystery|science|history|poetry), published_year:year(1950,2024)~publication year, pages:int(80,1200)~page count
        loans > books: member:person~member name, loan_date:date(2024,2024), due_date:date(2024,2025), is_returned:bool~returned, late_fee:money(0,25)
    """),
    domain("movies", "Films, studios and box office.", """
        studios: name:pick(Paramount Peak|Silver Screen|Northlight|Redwood Pictures|Lumen Films), country:country, founded:year(1910,2015)~founding year
        movies > studios: title:pick(Midnight Run|Star Harbor|The Long Road|Glass City|Wild Hearts|Last Light|Deep Blue), genre:choice(drama|comedy|action|horror|documentary), release_date:date(2000,2024), budget:money(100000,300000000), runtime_minutes:int(70,200)~runtime in minutes
        screenings > movies: city:city, screen_date:date(2024,2024)~screening date, tickets_sold:int(0,900)~tickets sold, revenue:money(0,20000)
    """),
    domain("music", "Artists, albums and streams.", """
        artists: name:pick(The Rovers|Luna Ray|DJ Kito|Amber Sky|Neon Tide|Marco Vale|Iris), genre:choice(pop|rock|jazz|hip hop|classical|electronic), country:country, debut_year:year(1970,2022)~debut year
        albums > artists: title:pick(Daybreak|Echo Park|Velvet|Signals|Home Again|Static|Wildfire), release_date:date(1990,2024), tracks:int(5,25)~number of tracks, price:money(5,30)
        streams > albums: stream_date:date(2024,2024), play_count:int(1,500000)~plays, country:country, revenue:money(0,5000)
    """),
    domain("gaming", "Video games, players and sessions.", """
        games: title:pick(Star Forge|Pixel Quest|Dune Racer|Shadow Keep|Farm Life|Galaxy Ops), genre:choice(RPG|racing|strategy|shooter|simulation), release_date:date(2015,2024), price:money(0,70)
        players: username:word~username, country:country, level:int(1,100), joined_on:date(2018,2024)~join date, is_premium:bool~premium
        sessions > players, games: session_date:date(2024,2024), minutes_played:int(1,600)~minutes played, score:int(0,100000), purchases:money(0,200)~in-game purchases
    """),
    domain("transportation", "Public transit routes, vehicles and trips.", """
        routes: name:pick(Route 1|Route 7|Blue Line|Red Line|Airport Express|Harbor Loop), mode:choice(bus|tram|metro|ferry), length_km:float(2,60)~length in km
        vehicles > routes: plate:code~plate number, capacity:int(20,300), purchased_on:date(2005,2024)~purchase date, is_electric:bool~electric
        trips > vehicles: trip_date:date(2024,2024), passengers:int(0,300)~number of passengers, delay_minutes:int(0,45)~delay in minutes, fare_revenue:money(0,1500)~fare revenue
    """),
    domain("nonprofit", "Donors, campaigns and donations.", """
        donors: name:person, city:city, first_gift_date:date(2010,2024)~first donation date, is_recurring:bool~recurring donor
        campaigns: name:pick(Clean Water|Food Bank|School Books|Winter Coats|Tree Planting|Medical Aid), goal:money(5000,500000)~goal amount, start_date:date(2022,2024), cause:choice(health|education|environment|hunger)
        donations > donors, campaigns: amount:money(5,50000), donation_date:date(2023,2024), channel:choice(online|mail|event|phone)
    """),
    domain("government", "City services: departments, permits and inspections.", """
        agencies: name:pick(Public Works|Parks|Housing|Transportation|Health Department|Fire Department), budget:money(1000000,90000000), head:person~director
        permits > agencies: applicant:person~applicant name, permit_type:choice(building|event|parking|business)~type, issued_on:date(2022,2024)~issue date, fee:money(20,5000), is_approved:bool~approved
        inspections > permits: inspection_date:date(2023,2024), result:choice(passed|failed|pending), inspector:person~inspector name
    """),
    domain("cybersecurity", "Servers, vulnerabilities and security incidents.", """
        servers: hostname:code~host name, os:choice(Linux|Windows|macOS|BSD)~operating system, data_center:city~data center, deployed_on:date(2015,2024)~deployment date
        vulnerabilities: cve_id:code~CVE id, severity:choice(low|medium|high|critical), cvss_score:float(0,10)~CVSS score, published_on:date(2018,2024)~publication date
        incidents > servers, vulnerabilities: detected_on:date(2023,2024)~detection date, hours_to_resolve:float(0.5,200)~hours to resolve, is_resolved:bool~resolved, records_exposed:int(0,1000000)~records exposed
    """),
    domain("automotive", "Car dealerships, vehicles and service visits.", """
        dealerships: name:company, city:city, opened:year(1960,2020)~opening year
        cars > dealerships: model:pick(Civic|Model 3|Corolla|F-150|Golf|Mustang|Outback|Leaf), make:choice(Honda|Tesla|Toyota|Ford|Volkswagen|Subaru|Nissan), model_year:year(2012,2024)~model year, price:money(8000,90000), mileage:int(0,200000), is_electric:bool~electric
        services > cars: service_date:date(2023,2024), service_type:choice(oil change|brakes|tires|inspection|battery)~type of service, cost:money(30,3000)
    """),
    domain("aviation_maintenance", "Aircraft, mechanics and maintenance work orders.", """
        aircraft/aircraft: tail_number:code~tail number, model:choice(A320|B737|E190|A350|B787), built_year:year(1995,2023)~year built, flight_hours:int(1000,90000)~flight hours
        mechanics: name:person, certification:choice(A&P|Avionics|Structures)~certification, hourly_rate:money(25,120)~hourly rate
        work_orders > aircraft, mechanics: opened_on:date(2023,2024)~open date, labor_hours:float(0.5,80)~labor hours, parts_cost:money(0,90000)~parts cost, is_closed:bool~closed
    """),
    domain("pharmacy", "Drugs, pharmacies and prescriptions.", """
        drugs: name:pick(Amoxicillin|Lisinopril|Metformin|Atorvastatin|Ibuprofen|Omeprazole|Sertraline), drug_class:choice(antibiotic|statin|analgesic|antidepressant|antidiabetic)~drug class, unit_price:money(0.1,40)~unit price, is_generic:bool~generic
        pharmacies: name:pick(CarePlus|HealthMart|City Pharmacy|QuickMeds|WellRx), city:city, opened_on:date(1990,2022)~opening date
        prescriptions > drugs, pharmacies: patient:person~patient name, prescribed_on:date(2024,2024)~prescription date, quantity:int(10,180), refills:int(0,5)~number of refills
    """),
    domain("social_media", "Users, posts and engagement on a social network.", """
        users: handle:word~handle, country:country, followers:int(0,2000000)~follower count, signup_date:date(2012,2024), is_verified:bool~verified
        posts > users: content_type:choice(photo|video|text|link)~type, posted_at:date(2024,2024)~post date, likes:int(0,500000), shares:int(0,50000)
        comments > posts: author:person~commenter, commented_on:date(2024,2024)~comment date, likes:int(0,5000), is_flagged:bool~flagged
    """),
    domain("media_news", "News articles, journalists and page views.", """
        journalists: name:person, beat:choice(politics|sports|tech|business|culture), hired_on:date(2005,2024)~hire date
        articles > journalists: headline:pick(Markets Rally|Storm Warning|Election Night|New Stadium|AI Breakthrough|Budget Vote|Local Hero), section:choice(news|opinion|features), published_on:date(2024,2024)~publication date, word_count:int(200,5000)~word count
        page_views > articles: view_date:date(2024,2024), views:int(0,900000), avg_seconds:float(5,600)~average reading time in seconds
    """),
    domain("fitness", "Gyms, members and classes.", """
        gyms: name:pick(Iron Temple|FitHub|Pulse|Core Studio|Peak Performance), city:city, monthly_price:money(10,200)~monthly price
        members > gyms: name:person, age:int(16,80), joined_on:date(2018,2024)~join date, membership:choice(basic|premium|student|family)~membership type, is_active:bool~active
        visits > members: visit_date:date(2024,2024), minutes:int(10,180)~workout minutes, calories_burned:int(50,1500)~calories burned
    """),
    domain("construction", "Construction projects, contractors and costs.", """
        contractors: name:company, city:city, license_number:code~license number, rating:float(1,5)
        projects > contractors: name:pick(Harbor Bridge|City Library|Riverside Towers|Metro Depot|Sunset Mall|North School), project_type:choice(residential|commercial|infrastructure)~type, budget:money(100000,90000000), start_date:date(2019,2024), is_completed:bool~completed
        expenses > projects: category:choice(labor|materials|equipment|permits), amount:money(100,2000000), expense_date:date(2023,2024)
    """),
    domain("tourism", "Tour operators, tours and bookings.", """
        operators: name:company, country:country, founded:year(1970,2022)~founding year
        tours > operators: name:pick(Old Town Walk|Safari Day|Wine Country|Glacier Hike|Temple Trail|Island Hop), destination:city, duration_days:int(1,21)~duration in days, price:money(20,8000)
        tour_bookings > tours: traveler:person~traveler name, booking_date:date(2023,2024), group_size:int(1,12)~group size, is_paid:bool~paid
    """),
    domain("legal", "Law firms, cases and billing.", """
        firms: name:company, city:city, partners:int(1,300)~number of partners
        lawyers > firms: name:person, practice_area:choice(corporate|criminal|family|tax|immigration)~practice area, bar_year:year(1980,2023)~bar admission year, hourly_rate:money(100,1200)~hourly rate
        cases > lawyers: client:person~client name, opened_on:date(2020,2024)~open date, status:choice(open|settled|won|lost), billed_hours:float(1,900)~billed hours
    """),
    domain("marketing", "Marketing campaigns, channels and conversions.", """
        channels: name:pick(Email|Search|Social|Display|Podcast|TV), cost_model:choice(CPC|CPM|flat)~cost model
        campaigns > channels: name:pick(Spring Sale|Back to School|Holiday Blast|Summer Launch|Black Friday), start_date:date(2023,2024), budget:money(1000,900000), target_region:choice(NA|EMEA|APAC|LATAM)~target region
        conversions > campaigns: conversion_date:date(2024,2024), revenue:money(1,5000), is_new_customer:bool~new customer, source_device:choice(mobile|desktop|tablet)~device
    """),
    domain("supply_chain", "Suppliers, parts and purchase orders.", """
        suppliers: name:company, country:country, lead_time_days:int(1,90)~lead time in days, is_certified:bool~certified
        parts: part_number:code~part number, description:pick(Bolt|Gear|Valve|Sensor|Bearing|Circuit Board|Filter), unit_cost:money(0.1,900)~unit cost, weight_g:int(1,20000)~weight in grams
        purchase_orders > suppliers, parts: order_date:date(2023,2024), quantity:int(10,10000), status:choice(open|received|late|cancelled)
    """),
    domain("environment", "Monitoring stations and air quality readings.", """
        stations: name:word, city:city, installed_on:date(2010,2023)~installation date, elevation_m:int(0,3000)~elevation in meters
        pollutants: name:pick(PM2.5|PM10|NO2|O3|SO2|CO), safe_limit:float(5,200)~safe limit
        readings > stations, pollutants: reading_date:date(2024,2024), concentration:float(0,400), is_alert:bool~alert
    """),
    domain("veterinary", "Pet owners, pets and vet visits.", """
        owners: name:person, city:city, phone:phone~phone number
        pets > owners: name:pick(Bella|Max|Luna|Charlie|Milo|Daisy|Rocky|Coco), species:choice(dog|cat|rabbit|parrot|hamster), birth_date:date(2008,2024), weight_kg:float(0.1,60)~weight in kg
        visits > pets: visit_date:date(2023,2024), reason:choice(checkup|vaccination|surgery|injury|dental), cost:money(30,4000), is_emergency:bool~emergency
    """),
    domain("charity_events", "Event venues, events and ticket sales.", """
        venues: name:pick(Civic Hall|Riverside Park|The Forum|Grand Arena|Harbor Pavilion), city:city, capacity:int(50,60000)
        events > venues: name:pick(Jazz Night|Tech Expo|Food Festival|Charity Gala|Marathon|Book Fair), event_date:date(2024,2025), category:choice(music|conference|festival|sports), ticket_price:money(0,400)~ticket price
        tickets > events: buyer:person~buyer name, purchased_on:date(2024,2024)~purchase date, quantity:int(1,10), is_refunded:bool~refunded
    """),
    domain("space", "Space agencies, missions and launches.", """
        agencies: name:pick(NASA|ESA|JAXA|ISRO|CNSA|SpaceX), country:country, founded:year(1958,2010)~founding year
        missions > agencies: name:pick(Artemis|Voyager|Hayabusa|Chandrayaan|Tianwen|Juno|Perseverance), destination:choice(Moon|Mars|Jupiter|asteroid|orbit), launch_date:date(1977,2024), cost_millions:money(50,10000)~cost in millions, is_successful:bool~successful
        payloads > missions: payload_name:word~payload name, mass_kg:float(1,20000)~mass in kg, instrument_type:choice(camera|spectrometer|rover|lander|antenna)~instrument type
    """),
    domain("water_utility", "Water customers, meters and bills.", """
        customers: name:person, district:choice(North|South|Harbor|Hills|Downtown), connected_on:date(1990,2024)~connection date
        meters > customers: serial:code~serial number, installed_on:date(2005,2024)~installation date, is_smart:bool~smart meter
        bills > meters: billing_month:date(2024,2024)~billing month, cubic_meters:float(0,400)~water used in cubic meters, amount_due:money(5,900)~amount due, is_paid:bool~paid
    """),
    domain("recruiting", "Job postings, candidates and applications.", """
        jobs: title:pick(Data Analyst|Nurse|Software Engineer|Accountant|Sales Rep|Teacher|Chef), department:choice(Tech|Health|Finance|Sales|Education), salary_max:money(30000,250000)~maximum salary, posted_on:date(2024,2024)~posting date, is_remote:bool~remote
        candidates: name:person, city:city, years_experience:int(0,35)~years of experience, email:email
        applications > jobs, candidates: applied_on:date(2024,2024)~application date, stage:choice(applied|screen|interview|offer|rejected), interview_score:int(1,10)~interview score
    """),
    domain("food_delivery", "Couriers, restaurants and deliveries.", """
        couriers: name:person, vehicle:choice(bike|scooter|car)~vehicle type, hired_on:date(2019,2024)~hire date, rating:float(1,5)
        kitchens: name:pick(Noodle Bar|Pizza Hub|Green Bowl|Burger Lab|Taqueria Sol), cuisine:choice(Asian|Italian|Healthy|American|Mexican), prep_minutes:int(5,45)~average prep time in minutes
        deliveries > couriers, kitchens: delivered_at:date(2024,2024)~delivery date, distance_km:float(0.3,20)~distance in km, order_value:money(5,250)~order value, tip:money(0,40), is_late:bool~late
    """),
    domain("research", "Research labs, grants and publications.", """
        labs: name:pick(Quantum Lab|Genome Center|AI Institute|Ocean Lab|Climate Group), field:choice(physics|biology|computer science|earth science)~research field, founded:year(1950,2022)~founding year
        grants > labs: funder:choice(NSF|NIH|ERC|Wellcome|DOE), amount:money(10000,5000000), awarded_on:date(2018,2024)~award date, duration_years:int(1,7)~duration in years
        publications > labs: title:pick(On Sparse Models|Deep Ocean Currents|Gene Editing at Scale|Quantum Error Rates|Warming Trends), journal:choice(Nature|Science|Cell|PNAS|NeurIPS), published_on:date(2019,2024)~publication date, citations:int(0,5000)
    """),
    domain("retail_banking_atm", "ATMs, cards and withdrawals.", """
        branches: name:pick(Downtown|Airport|Mall|University|Harbor|Westside), city:city, opened_on:date(1980,2022)~opening date
        atms > branches: serial:code~serial number, cash_capacity:money(10000,200000)~cash capacity, installed_on:date(2010,2024)~installation date, is_online:bool~online
        withdrawals > atms: amount:money(10,1000), withdrawn_on:date(2024,2024)~withdrawal date, card_type:choice(debit|credit|prepaid)~card type, fee:money(0,5)
    """),
    domain("wildlife", "Nature reserves, species and sightings.", """
        reserves: name:pick(Red Rock|Blue Lagoon|Elk Valley|Misty Forest|Savanna Park), country:country, area_km2:float(10,20000)~area in square km, established:year(1900,2020)~year established
        species/species: common_name:pick(Snow Leopard|Red Fox|Bald Eagle|Sea Turtle|Gray Wolf|Elephant|Koala), category:choice(mammal|bird|reptile|amphibian), status:choice(endangered|vulnerable|least concern)~conservation status
        sightings > reserves, species: sighting_date:date(2023,2024), animal_count:int(1,60)~number of animals, observer:person~observer name
    """),
)

# Tables that exist in real databases next to the domain's own: schemas list them, queries ignore them.
UNRELATED: tuple[TableSpec, ...] = domain("misc", "", """
    audit_logs: actor:person~actor, action:choice(login|update|delete|export), logged_at:date(2024,2024)~log date
    app_settings/app_setting: setting_key:word~setting key, setting_value:word~setting value
    tags: label:word~label, color:choice(red|green|blue|gray)
""").tables
